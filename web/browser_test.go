package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
)

// Viewports the browser tests render at: a cheap phone for the portal, a
// laptop for the dashboard.
const (
	phoneWidth, phoneHeight     = 375, 667
	desktopWidth, desktopHeight = 1280, 800
)

// chromiumPath finds Debian's Chromium (TEST_CHROMIUM overrides).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if testing.Short() {
		t.Skip("no Chromium on this machine (apt-get install chromium); skipped in -short")
	}
	t.Fatal("browser tests need Chromium: apt-get install chromium (or set TEST_CHROMIUM)")
	return ""
}

// newBrowser starts a headless Chromium of its own for the test at the
// given viewport and returns a context to drive it with chromedp. The
// flags keep it off the network: this machine refuses outside connections.
func newBrowser(t *testing.T, width, height int) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	// The timeout bounds the browser's whole life (chromedp stops the
	// browser when its first context ends): a stuck wait fails the test
	// instead of hanging the suite.
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// screenshot saves a full-page PNG as a test artifact under
// TEST_ARTIFACTS (default testdata/artifacts, git-ignored), named
// after the test and the step.
func screenshot(t *testing.T, ctx context.Context, step string) {
	t.Helper()
	dir := os.Getenv("TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts dir: %v", err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", step, err)
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name() + "-" + step)
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
}

// steps returns a runner of browser steps: each call runs its actions
// within 20 s, and on failure saves a screenshot and fails the test
// naming the step.
func steps(t *testing.T, b context.Context) func(step string, actions ...chromedp.Action[chromedp.Void]) {
	return func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(b, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			screenshot(t, b, "failed-"+step)
			t.Fatalf("%s: %v", step, err)
		}
	}
}

// signIn signs in through the login form and waits for the landing page.
func signIn(url, email string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{chromedp.Navigate(url + "/login"), chromedp.WaitVisible("#email"), chromedp.SendKeys("#email", email),
		chromedp.SendKeys("#password", testPassword), chromedp.Click("#sign-in"), chromedp.WaitVisible("#search")}
}

// TestBrowserStarts proves the harness: Chromium renders a page of ours.
func TestBrowserStarts(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	ctx := newBrowser(t, phoneWidth, phoneHeight)
	if err := chromedp.Do(ctx, chromedp.Navigate(a.url+"/healthz")); err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(ctx, chromedp.Text("body"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "ok") {
		t.Fatalf("healthz in the browser = %q", body)
	}
}
