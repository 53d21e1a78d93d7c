// Package config reads Handover's settings from HANDOVER_* environment
// variables. Unknown HANDOVER_ variables and malformed values fail at start
// with a message naming the variable. Secrets are never logged.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/handoverhq/handover/pii/masterkey"
)

// Prefix is the prefix of every Handover environment variable.
const Prefix = "HANDOVER_"

// Config is every setting. docs/config.md lists them; a test keeps the two
// in step.
type Config struct {
	HTTPAddr           string   `env:"HTTP_ADDR" envDefault:"127.0.0.1:8080"`
	DataDir            string   `env:"DATA_DIR" envDefault:"./data"`
	DatabaseURL        string   `env:"DATABASE_URL"`
	RedisURL           string   `env:"REDIS_URL"`
	PublicURL          string   `env:"PUBLIC_URL"`
	MasterKey          string   `env:"MASTER_KEY"`
	PreviousMasterKeys []string `env:"PREVIOUS_MASTER_KEYS" envSeparator:","`
	// The master key kept encrypted by Aliyun KMS instead (see pii/aliyunkms).
	MasterKeyKMSBlob   string        `env:"MASTER_KEY_KMS_BLOB"`
	KMSURL             string        `env:"KMS_URL" envDefault:"https://kms.cn-hangzhou.aliyuncs.com"`
	KMSRegion          string        `env:"KMS_REGION" envDefault:"cn-hangzhou"`
	KMSAccessKeyID     string        `env:"KMS_ACCESS_KEY_ID"`
	KMSAccessKeySecret string        `env:"KMS_ACCESS_KEY_SECRET"`
	AdminEmail         string        `env:"ADMIN_EMAIL" envDefault:"admin@handover.local"`
	LogLevel           string        `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat          string        `env:"LOG_FORMAT" envDefault:"text"`
	MaxUploadMB        int64         `env:"MAX_UPLOAD_MB" envDefault:"200"`
	RequestTimeout     time.Duration `env:"REQUEST_TIMEOUT" envDefault:"30s"`
	RateLimit          float64       `env:"RATE_LIMIT" envDefault:"50"`
	TrustedProxies     []string      `env:"TRUSTED_PROXIES" envSeparator:","`
	WorkerConcurrency  int           `env:"WORKER_CONCURRENCY" envDefault:"10"`
	ShutdownTimeout    time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"30s"`
	// LinkTTL is how long a personal link lives.
	LinkTTL time.Duration `env:"LINK_TTL" envDefault:"720h"`
	// MetricsToken turns /metrics on for a scraper that sends it as a
	// bearer token; without it /metrics is off.
	MetricsToken string `env:"METRICS_TOKEN"`
	// PprofAddr, when set, serves Go's profiler (/debug/pprof/) on that
	// address, apart from the API: for finding where CPU time goes.
	PprofAddr string `env:"PPROF_ADDR"`
	// MetricsCache is how long a scrape's product figures (read from the
	// database and Redis) are served again before they are read anew.
	MetricsCache time.Duration `env:"METRICS_CACHE" envDefault:"10s"`
	// MetricsAddr, when set, is where a worker process (which has no
	// HTTP server) serves /metrics, /healthz and /readyz.
	MetricsAddr string `env:"METRICS_ADDR"`
	// CompanyName and CompanyContact head the portal pages and tell a
	// customer whose link does not open whom to ask.
	CompanyName    string `env:"COMPANY_NAME"`
	CompanyContact string `env:"COMPANY_CONTACT"`
	// TimeZone is the company's IANA zone: the portal shows times in it
	// to a customer whose own zone is not known.
	TimeZone string `env:"TIME_ZONE" envDefault:"Asia/Shanghai"`

	// Import limits: rows per file (blank ones included), what an XLSX
	// may expand to, and how many first rows, all rejected, stop an import.
	ImportMaxRows       int64 `env:"IMPORT_MAX_ROWS" envDefault:"2000000"`
	ImportMaxUnzippedMB int64 `env:"IMPORT_MAX_UNZIPPED_MB" envDefault:"1024"`
	ImportRejectStop    int   `env:"IMPORT_REJECT_STOP" envDefault:"1000"`

	// Governance: how long an agreement acceptance lasts, how often access
	// is reviewed.
	AgreementPeriod   time.Duration `env:"AGREEMENT_PERIOD" envDefault:"8760h"`
	AccessReviewEvery time.Duration `env:"ACCESS_REVIEW_EVERY" envDefault:"2160h"`
	CampaignLease     time.Duration `env:"CAMPAIGN_LEASE" envDefault:"30s"`
	// BackupRecipient is the age public key backups are encrypted to;
	// empty: a key derived from the master key.
	BackupRecipient string `env:"BACKUP_RECIPIENT"`
	// CLIToken is the API token of the staff member acting in a command
	// that needs a person's own credentials (destroy request, approve).
	CLIToken string `env:"CLI_TOKEN"`
	// AuditVerifyEvery is how often serve and api verify the audit chain.
	AuditVerifyEvery time.Duration `env:"AUDIT_VERIFY_EVERY" envDefault:"1h"`
	// CookieSecure is "auto" (Secure unless PUBLIC_URL is plain http),
	// "true" or "false"; validate resolves it into SecureCookies.
	CookieSecure  string        `env:"COOKIE_SECURE" envDefault:"auto"`
	SessionIdle   time.Duration `env:"SESSION_IDLE" envDefault:"30m"`
	SessionMaxAge time.Duration `env:"SESSION_MAX_AGE" envDefault:"12h"`
	// SecureCookies is whether the cookies of the dashboard and the portal
	// carry the Secure flag.
	SecureCookies bool `env:"-"`

	Channels
	Tickets
}

// Tickets configures feedback tickets.
type Tickets struct {
	TicketReopenDays  int      `env:"TICKET_REOPEN_DAYS" envDefault:"7"`
	TicketHolidays    []string `env:"TICKET_HOLIDAYS" envSeparator:","`
	TicketSMSTemplate string   `env:"TICKET_SMS_TEMPLATE"`
	// TicketCSAT sends a satisfaction-survey link when a ticket is resolved.
	TicketCSAT bool `env:"TICKET_CSAT" envDefault:"false"`
	// TicketSurveyScore is the score that survey asks: csat (1–5) or nps (0–10).
	TicketSurveyScore string `env:"TICKET_SURVEY_SCORE" envDefault:"csat"`
}

// Channels configures the providers. A channel is on when its required
// variables are set; with none on, the devbox records messages instead.
type Channels struct {
	WeChatAppID     string `env:"WECHAT_APP_ID"`
	WeChatAppSecret string `env:"WECHAT_APP_SECRET"`
	WeChatToken     string `env:"WECHAT_TOKEN"`
	WeChatAESKey    string `env:"WECHAT_AES_KEY"`
	WeChatAPIBase   string `env:"WECHAT_API_BASE" envDefault:"https://api.weixin.qq.com"`
	WeChatRate      int    `env:"WECHAT_RATE" envDefault:"100"`
	AliyunKeyID     string `env:"ALIYUN_ACCESS_KEY_ID"`
	AliyunKeySecret string `env:"ALIYUN_ACCESS_KEY_SECRET"`
	AliyunSMSURL    string `env:"ALIYUN_SMS_ENDPOINT" envDefault:"https://dysmsapi.aliyuncs.com"`
	SMSSignName     string `env:"SMS_SIGN_NAME"`
	// The approved template (one variable, code) for confirmation codes.
	SMSCodeTemplate string `env:"SMS_CODE_TEMPLATE"`
	SMSRate         int    `env:"SMS_RATE" envDefault:"50"`
	// SMSSegmentPrice is what one billed SMS segment costs, in yuan: the
	// template pages show a message's cost with it.
	SMSSegmentPrice float64 `env:"SMS_SEGMENT_PRICE" envDefault:"0.045"`
	// How often to poll Aliyun for SMS receipts push has not brought; 0 is off.
	SMSReceiptPoll   time.Duration `env:"SMS_RECEIPT_POLL" envDefault:"0"`
	SMTPURL          string        `env:"SMTP_URL"`
	EmailFrom        string        `env:"EMAIL_FROM"`
	EmailReplyDomain string        `env:"EMAIL_REPLY_DOMAIN"`
	EmailRate        int           `env:"EMAIL_RATE" envDefault:"200"`
	SMTPInboundAddr  string        `env:"SMTP_INBOUND_ADDR"`
	// PEM files; with them the inbound listener offers STARTTLS.
	SMTPInboundTLSCert string `env:"SMTP_INBOUND_TLS_CERT"`
	SMTPInboundTLSKey  string `env:"SMTP_INBOUND_TLS_KEY"`
	HookSecret         string `env:"HOOK_SECRET"`
}

// Load reads the environment (as os.Environ gives it) into a Config and
// checks it.
func Load(environ []string) (*Config, error) {
	vars := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	var cfg Config
	opts := env.Options{Prefix: Prefix, Environment: vars}
	if err := env.ParseWithOptions(&cfg, opts); err != nil {
		return nil, explain(err)
	}
	if err := checkUnknown(vars, opts); err != nil {
		return nil, err
	}
	return &cfg, cfg.validate()
}

// explain turns the env library's aggregate error into one line per
// variable.
func explain(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return err
	}
	var lines []string
	for _, e := range agg.Errors {
		var perr env.ParseError
		if errors.As(e, &perr) {
			lines = append(lines, fmt.Sprintf("%s%s: %v", Prefix, toEnvName(perr.Name), perr.Err))
			continue
		}
		lines = append(lines, e.Error())
	}
	return fmt.Errorf("configuration: %s", strings.Join(lines, "; "))
}

// toEnvName finds the variable name of a Config field.
func toEnvName(field string) string {
	params, _ := env.GetFieldParams(&Config{})
	for _, p := range params {
		if p.OwnKey != "" && strings.EqualFold(strings.ReplaceAll(p.OwnKey, "_", ""), field) {
			return p.OwnKey
		}
	}
	return field
}

// Names lists every variable Handover reads, sorted.
func Names() []string {
	params, _ := env.GetFieldParamsWithOptions(&Config{}, env.Options{Prefix: Prefix})
	var names []string
	for _, p := range params {
		names = append(names, p.Key)
	}
	sort.Strings(names)
	return names
}

func checkUnknown(vars map[string]string, opts env.Options) error {
	known := map[string]bool{}
	for _, n := range Names() {
		known[n] = true
	}
	var unknown []string
	for k := range vars {
		if strings.HasPrefix(k, Prefix) && !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("configuration: unknown variable %s (known: see docs/config.md)", strings.Join(unknown, ", "))
	}
	return nil
}

func (c *Config) validate() error {
	if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "" {
		return fmt.Errorf("configuration: HANDOVER_TIME_ZONE must be an IANA time zone such as Asia/Shanghai")
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		return fmt.Errorf("configuration: HANDOVER_HTTP_ADDR must be host:port: %v", err)
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return fmt.Errorf("configuration: HANDOVER_DATABASE_URL must be empty (embedded SQLite) or a postgres:// URL")
	}
	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "redis-sentinel") {
			return fmt.Errorf("configuration: HANDOVER_REDIS_URL must be empty (embedded) or a redis://, rediss:// or redis-sentinel:// URL")
		}
	}
	if c.PprofAddr != "" {
		host, _, err := net.SplitHostPort(c.PprofAddr)
		if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			return fmt.Errorf("configuration: HANDOVER_PPROF_ADDR must be a loopback host:port such as 127.0.0.1:6060")
		}
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.HTTPAddr
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("configuration: HANDOVER_PUBLIC_URL must be an http(s) URL such as https://handover.example.com")
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	switch c.CookieSecure {
	case "auto":
		c.SecureCookies = !strings.HasPrefix(c.PublicURL, "http://")
	case "true", "false":
		c.SecureCookies = c.CookieSecure == "true"
	default:
		return fmt.Errorf("configuration: HANDOVER_COOKIE_SECURE must be auto, true or false")
	}
	if c.SessionIdle < time.Minute || c.SessionMaxAge < c.SessionIdle {
		return fmt.Errorf("configuration: HANDOVER_SESSION_IDLE must be at least 1m and HANDOVER_SESSION_MAX_AGE at least as long")
	}
	if c.MasterKey != "" {
		if _, err := masterkey.Parse(c.MasterKey); err != nil {
			return fmt.Errorf("configuration: HANDOVER_MASTER_KEY: %v", err)
		}
	}
	if c.MasterKeyKMSBlob != "" {
		if c.MasterKey != "" {
			return fmt.Errorf("configuration: set HANDOVER_MASTER_KEY or HANDOVER_MASTER_KEY_KMS_BLOB, not both")
		}
		if c.KMSAccessKeyID == "" || c.KMSAccessKeySecret == "" {
			return fmt.Errorf("configuration: HANDOVER_MASTER_KEY_KMS_BLOB needs HANDOVER_KMS_ACCESS_KEY_ID and HANDOVER_KMS_ACCESS_KEY_SECRET")
		}
	}
	if p, err := url.Parse(c.KMSURL); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("configuration: HANDOVER_KMS_URL must be an http(s) URL")
	}
	for i, k := range c.PreviousMasterKeys {
		if _, err := masterkey.Parse(k); err != nil {
			return fmt.Errorf("configuration: HANDOVER_PREVIOUS_MASTER_KEYS item %d: %v", i+1, err)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("configuration: HANDOVER_LOG_LEVEL must be debug, info, warn or error")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("configuration: HANDOVER_LOG_FORMAT must be text or json")
	}
	if c.TicketReopenDays < 1 || c.TicketReopenDays > 365 {
		return fmt.Errorf("configuration: HANDOVER_TICKET_REOPEN_DAYS must be between 1 and 365")
	}
	if c.TicketSurveyScore != "csat" && c.TicketSurveyScore != "nps" {
		return fmt.Errorf("configuration: HANDOVER_TICKET_SURVEY_SCORE must be csat or nps")
	}
	for _, d := range c.TicketHolidays {
		if _, err := time.Parse(time.DateOnly, strings.TrimSpace(d)); err != nil {
			return fmt.Errorf("configuration: HANDOVER_TICKET_HOLIDAYS must list dates written YYYY-MM-DD, separated by commas")
		}
	}
	if c.MaxUploadMB < 1 {
		return fmt.Errorf("configuration: HANDOVER_MAX_UPLOAD_MB must be at least 1")
	}
	if c.ImportMaxRows < 1 || c.ImportMaxUnzippedMB < 1 || c.ImportRejectStop < 1 {
		return fmt.Errorf("configuration: HANDOVER_IMPORT_MAX_ROWS, HANDOVER_IMPORT_MAX_UNZIPPED_MB and HANDOVER_IMPORT_REJECT_STOP must be at least 1")
	}
	if c.LinkTTL < time.Hour || c.LinkTTL > 366*24*time.Hour {
		return fmt.Errorf("configuration: HANDOVER_LINK_TTL must be between 1h and 8784h (366 days)")
	}
	if c.RateLimit <= 0 {
		return fmt.Errorf("configuration: HANDOVER_RATE_LIMIT must be positive (requests per second per client)")
	}
	for _, cidr := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(strings.TrimSpace(cidr)); err != nil {
			return fmt.Errorf("configuration: HANDOVER_TRUSTED_PROXIES: %q is not a CIDR range", cidr)
		}
	}
	if c.MetricsCache < 0 || c.MetricsCache > 5*time.Minute {
		return fmt.Errorf("configuration: HANDOVER_METRICS_CACHE must be between 0s and 5m")
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf("configuration: HANDOVER_METRICS_ADDR must be HOST:PORT: %v", err)
		}
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		return fmt.Errorf("configuration: HANDOVER_METRICS_TOKEN must be at least 16 characters")
	}
	if c.BackupRecipient != "" && !strings.HasPrefix(strings.TrimSpace(c.BackupRecipient), "age1") {
		return fmt.Errorf("configuration: HANDOVER_BACKUP_RECIPIENT must be an age X25519 public key (age1…)")
	}
	if err := c.Channels.validate(); err != nil {
		return err
	}
	if c.WorkerConcurrency < 1 {
		return fmt.Errorf("configuration: HANDOVER_WORKER_CONCURRENCY must be at least 1")
	}
	return nil
}

// Embedded reports whether Handover runs on its embedded defaults (SQLite).
func (c *Config) Embedded() bool { return c.DatabaseURL == "" }

// MasterKeys returns the current master key and any previous ones. In
// embedded mode with no key set, it reads — or on first start generates —
// DATA_DIR/master.key (mode 0600); generated reports that it did.
func (c *Config) MasterKeys() (current []byte, previous [][]byte, generated bool, err error) {
	keyText := c.MasterKey
	if keyText == "" {
		if !c.Embedded() {
			return nil, nil, false, fmt.Errorf("configuration: HANDOVER_MASTER_KEY is required with PostgreSQL (generate one with: handover keys generate)")
		}
		path := filepath.Join(c.DataDir, "master.key")
		b, rerr := os.ReadFile(path)
		switch {
		case rerr == nil:
			keyText = string(b)
		case errors.Is(rerr, os.ErrNotExist):
			if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
				return nil, nil, false, err
			}
			keyText = masterkey.Generate()
			if err := os.WriteFile(path, []byte(keyText+"\n"), 0o600); err != nil {
				return nil, nil, false, fmt.Errorf("write %s: %w", path, err)
			}
			generated = true
		default:
			return nil, nil, false, rerr
		}
	}
	if current, err = masterkey.Parse(keyText); err != nil {
		return nil, nil, false, fmt.Errorf("master key: %w", err)
	}
	for _, k := range c.PreviousMasterKeys {
		p, _ := masterkey.Parse(k)
		previous = append(previous, p)
	}
	return current, previous, generated, nil
}

// WeChatOn, SMSOn and EmailOn report which providers are configured.
func (c *Channels) WeChatOn() bool { return c.WeChatAppID != "" }

// SMSOn reports whether Aliyun SMS is configured.
func (c *Channels) SMSOn() bool { return c.AliyunKeyID != "" }

// EmailOn reports whether outbound email is configured.
func (c *Channels) EmailOn() bool { return c.SMTPURL != "" }

// validate checks that a channel that is on has everything it needs, so a
// half-configured provider fails at start rather than at the first send.
func (c *Channels) validate() error {
	need := func(on bool, group string, vars map[string]string) error {
		if !on {
			return nil
		}
		for name, v := range vars {
			if v == "" {
				return fmt.Errorf("configuration: %s is on but %s%s is empty", group, Prefix, name)
			}
		}
		return nil
	}
	if err := need(c.WeChatOn(), "WeChat", map[string]string{"WECHAT_APP_SECRET": c.WeChatAppSecret, "WECHAT_TOKEN": c.WeChatToken}); err != nil {
		return err
	}
	if c.WeChatAESKey != "" && len(c.WeChatAESKey) != 43 {
		return fmt.Errorf("configuration: HANDOVER_WECHAT_AES_KEY must be the 43-character EncodingAESKey")
	}
	if err := need(c.SMSOn(), "Aliyun SMS", map[string]string{"ALIYUN_ACCESS_KEY_SECRET": c.AliyunKeySecret, "SMS_SIGN_NAME": c.SMSSignName, "HOOK_SECRET": c.HookSecret}); err != nil {
		return err
	}
	switch {
	case !(c.SMSSegmentPrice >= 0 && c.SMSSegmentPrice <= 10):
		return fmt.Errorf("configuration: HANDOVER_SMS_SEGMENT_PRICE must be a price in yuan from 0 to 10, e.g. 0.045")
	case c.SMSReceiptPoll != 0 && !c.SMSOn():
		return fmt.Errorf("configuration: HANDOVER_SMS_RECEIPT_POLL is set but Aliyun SMS is off (set HANDOVER_ALIYUN_ACCESS_KEY_ID and the rest, or unset it)")
	case c.SMSReceiptPoll != 0 && c.SMSReceiptPoll < time.Minute:
		return fmt.Errorf("configuration: HANDOVER_SMS_RECEIPT_POLL must be 0 (off) or at least 1m")
	}
	if err := need(c.EmailOn(), "email", map[string]string{"EMAIL_FROM": c.EmailFrom}); err != nil {
		return err
	}
	if (c.SMTPInboundTLSCert == "") != (c.SMTPInboundTLSKey == "") {
		return fmt.Errorf("configuration: set both HANDOVER_SMTP_INBOUND_TLS_CERT and HANDOVER_SMTP_INBOUND_TLS_KEY, or neither")
	}
	if c.SMTPInboundAddr != "" && c.EmailReplyDomain == "" {
		return fmt.Errorf("configuration: HANDOVER_SMTP_INBOUND_ADDR is set but HANDOVER_EMAIL_REPLY_DOMAIN is empty")
	}
	for name, u := range map[string]string{"WECHAT_API_BASE": c.WeChatAPIBase, "ALIYUN_SMS_ENDPOINT": c.AliyunSMSURL} {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("configuration: %s%s must be an http(s) URL", Prefix, name)
		}
	}
	if c.HookSecret != "" && len(c.HookSecret) < 16 {
		return fmt.Errorf("configuration: HANDOVER_HOOK_SECRET must be at least 16 characters")
	}
	return nil
}
