package wechat

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
)

// ErrSnapshotUser is returned by OpenIDFromCode for WeChat's snapshot-page
// virtual user (is_snapshotuser=1): the customer is viewing a preview and
// must open the page in full before Handover can know who they are.
var ErrSnapshotUser = errors.New("wechat: snapshot-page virtual user: open the page in full to continue")

var (
	stateRE = regexp.MustCompile(`^[A-Za-z0-9]{1,128}$`)
	// The SDK puts the code into the token URL unescaped: accept only
	// characters WeChat codes are made of.
	codeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
)

// OAuthRedirectURL returns the open.weixin.qq.com URL that sends the
// customer back to redirectURI with a code (scope snsapi_base, no consent
// page). state is echoed back unescaped by the SDK, so it must be 1–128
// letters and digits.
func (c *Channel) OAuthRedirectURL(redirectURI, state string) (string, error) {
	if !stateRE.MatchString(state) {
		return "", errors.New("wechat: OAuth state must be 1-128 letters and digits")
	}
	u, err := url.Parse(redirectURI)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("wechat: OAuth redirect URI must be an absolute http(s) URL")
	}
	return c.oauth.GetRedirectURL(redirectURI, "snsapi_base", state)
}

// OpenIDFromCode exchanges the code WeChat appended to the redirect for the
// customer's openid. Errors carry neither the code nor the app secret.
func (c *Channel) OpenIDFromCode(ctx context.Context, code string) (string, error) {
	if !codeRE.MatchString(code) {
		return "", errors.New("wechat: malformed OAuth code")
	}
	res, err := c.oauth.GetUserAccessTokenContext(ctx, code)
	if err != nil {
		return "", fmt.Errorf("wechat: exchange OAuth code: %s", c.redact(err.Error()))
	}
	if res.IsSnapShotUser == 1 {
		return "", ErrSnapshotUser
	}
	if res.OpenID == "" {
		return "", errors.New("wechat: OAuth answer has no openid")
	}
	return res.OpenID, nil
}
