package main

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkServeStartup builds the binary, starts `handover serve` on a
// fresh data dir (embedded SQLite + miniredis), and reports the time from
// exec to the first 200 from /readyz and the idle RSS a few seconds later.
// Targets (issue #2): under 1 s to ready, under 60 MB idle.
func BenchmarkServeStartup(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "handover")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	for b.Loop() {
		dir := b.TempDir()
		// "first" migrates and generates keys; "second" restarts on that data.
		for _, run := range []string{"first", "second"} {
			ready, rss := startAndMeasure(b, bin, dir)
			b.ReportMetric(float64(ready.Milliseconds()), "ms-to-ready-"+run)
			b.ReportMetric(rss, "MB-idle-rss-"+run)
		}
	}
}

func startAndMeasure(b *testing.B, bin, dir string) (time.Duration, float64) {
	addr := "127.0.0.1:" + strconv.Itoa(18000+os.Getpid()%1000)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "HANDOVER_DATA_DIR="+dir, "HANDOVER_HTTP_ADDR="+addr, "HANDOVER_LOG_LEVEL=warn")
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	var ready time.Duration
	for ready == 0 {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				ready = time.Since(start)
				break
			}
		}
		if time.Since(start) > 30*time.Second {
			b.Fatal("serve never became ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	return ready, rssMB(b, cmd.Process.Pid)
}

func rssMB(b *testing.B, pid int) float64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
