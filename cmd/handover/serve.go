package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/governance"
	"github.com/handoverhq/handover/lifecycle"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/web"
)

func runServe(ctx context.Context, m *Main, args []string) error {
	return runProcess(ctx, m, "serve", args, true, true)
}

func runAPI(ctx context.Context, m *Main, args []string) error {
	return runProcess(ctx, m, "api", args, true, false)
}

func runWorker(ctx context.Context, m *Main, args []string) error {
	return runProcess(ctx, m, "worker", args, false, true)
}

// runProcess starts the HTTP server and/or the queue worker and runs until
// ctx is cancelled (SIGINT, SIGTERM), then shuts down gracefully: requests
// and tasks in flight finish first.
func runProcess(ctx context.Context, m *Main, name string, args []string, withHTTP, withWorker bool) error {
	fs := newFlags(m, name, name+" [--addr HOST:PORT]")
	addr := fs.String("addr", "", "listen address (overrides HANDOVER_HTTP_ADDR)")
	if err := parse(fs, args); err != nil {
		return err
	}
	start := time.Now()
	if err := m.loadConfig(); err != nil {
		return err
	}
	if *addr != "" {
		m.Config.HTTPAddr = *addr
	}
	if err := m.openStores(ctx); err != nil {
		return err
	}
	if err := m.OpenServices(ctx); err != nil {
		return err
	}
	if n, err := m.Templates.InstallDefaults(ctx); err != nil {
		return fmt.Errorf("install default templates: %w", err)
	} else if n > 0 {
		m.Log.Info("installed default message templates", "count", n)
	}
	if agreement, modules, err := m.Governance.InstallDefaults(ctx); err != nil {
		return fmt.Errorf("install default agreement and training: %w", err)
	} else if agreement || modules > 0 {
		m.Log.Info("installed the default confidentiality agreement and training: each member accepts and passes them before seeing customer data",
			"agreement", agreement, "training_modules", modules)
	}
	if n, err := m.Customers.FailInterruptedImports(ctx); err != nil {
		return err
	} else if n > 0 {
		m.Log.Warn("imports interrupted by an earlier stop were marked failed", "count", n)
	}

	if m.Config.PprofAddr != "" {
		stop, err := servePprof(m.Config.PprofAddr)
		if err != nil {
			return err
		}
		defer stop()
	}
	var err error
	errc := make(chan error, 2)
	var srv *web.Server
	if withHTTP {
		if err := m.printFirstAdmin(ctx); err != nil {
			return err
		}
		ln, err := net.Listen("tcp", m.Config.HTTPAddr)
		if err != nil {
			return fmt.Errorf("listen on %s (HANDOVER_HTTP_ADDR): %w", m.Config.HTTPAddr, err)
		}
		monitor := audit.NewMonitor(m.DB, m.Log)
		go monitor.Run(ctx, m.Config.AuditVerifyEvery)
		srv = web.New(m.WebDeps(monitor.Collectors()...))
		go func() { errc <- srv.Serve(ln) }()
		stopSMTP, err := m.startInboundSMTP()
		if err != nil {
			return err
		}
		defer stopSMTP()
	}
	var worker *asynq.Server
	var scheduler *asynq.Scheduler
	if withWorker && !withHTTP && m.Config.MetricsAddr != "" {
		ln, err := net.Listen("tcp", m.Config.MetricsAddr)
		if err != nil {
			return fmt.Errorf("listen on %s (HANDOVER_METRICS_ADDR): %w", m.Config.MetricsAddr, err)
		}
		srv = web.NewWorkerServer(m.Config, m.DB, m.Queue, m.WorkerCounters(), m.Log)
		go func() { errc <- srv.Serve(ln) }()
	}
	if withWorker {
		mux := asynq.NewServeMux()
		m.Register(mux)
		// An idle worker looks at its queues five times a second (Asynq's
		// default is once): a started campaign's first batch waits for
		// that, and the look is one Redis script.
		worker = m.Queue.NewServer(queue.ServerConfig{Concurrency: m.Config.WorkerConcurrency, Queues: m.WorkerQueues(),
			ShutdownTimeout: m.Config.ShutdownTimeout, TaskCheckInterval: 200 * time.Millisecond})
		if err := worker.Start(mux); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
		if scheduler, err = m.startScheduler(); err != nil {
			return err
		}
	}
	m.Log.Info("handover started", "command", name, "version", version, "addr", m.Config.HTTPAddr,
		"database", string(m.DB.Dialect), "redis_embedded", m.Queue.Embedded, "http", withHTTP, "worker", withWorker,
		"startup_ms", time.Since(start).Milliseconds())

	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	m.Log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancel()
	if srv != nil {
		if serr := srv.Shutdown(shutdownCtx); serr != nil && err == nil {
			err = serr
		}
	}
	if scheduler != nil {
		scheduler.Shutdown()
	}
	if worker != nil {
		worker.Shutdown()
	}
	return err
}

func runMigrate(ctx context.Context, m *Main, args []string) error {
	if err := parse(newFlags(m, "migrate", "migrate"), args); err != nil {
		return err
	}
	if err := m.openStores(ctx); err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, "database is up to date")
	return nil
}

func runVersion(ctx context.Context, m *Main, args []string) error {
	fmt.Fprintln(m.Stdout, "handover", version)
	return nil
}

// startScheduler enqueues the periodic tasks. Several processes may run
// one: each task is Unique, so copies do not pile up.
func (m *Main) startScheduler() (*asynq.Scheduler, error) {
	s := m.Queue.NewScheduler()
	task, opts := channels.SweepTask()
	if _, err := s.Register("@every 1m", task, opts...); err != nil {
		return nil, fmt.Errorf("schedule inbound sweep: %w", err)
	}
	task, opts = campaigns.ReconcileTask()
	if _, err := s.Register("@every 1m", task, opts...); err != nil {
		return nil, fmt.Errorf("schedule campaign reconciler: %w", err)
	}
	task, opts = campaigns.RecoverTask()
	if _, err := s.Register("@every "+campaigns.RecoverEvery.String(), task, opts...); err != nil {
		return nil, fmt.Errorf("schedule campaign recovery: %w", err)
	}
	if every := m.Config.SMSReceiptPoll; every > 0 {
		task, opts = campaigns.PollReceiptsTask(every)
		if _, err := s.Register("@every "+every.String(), task, opts...); err != nil {
			return nil, fmt.Errorf("schedule SMS receipt polling: %w", err)
		}
	}
	task, opts = campaigns.StartDueTask()
	if _, err := s.Register("@every 1m", task, opts...); err != nil {
		return nil, fmt.Errorf("schedule due campaign starts: %w", err)
	}
	task, opts = governance.HousekeepingTask()
	if _, err := s.Register("@every 10m", task, opts...); err != nil {
		return nil, fmt.Errorf("schedule governance housekeeping: %w", err)
	}
	task, opts = lifecycle.DestroyDueTask()
	if _, err := s.Register("@every 1h", task, opts...); err != nil {
		return nil, fmt.Errorf("schedule due destructions: %w", err)
	}
	task, opts = feedback.CheckSLATask()
	if _, err := s.Register("@every 1m", task, opts...); err != nil {
		return nil, fmt.Errorf("schedule ticket SLA check: %w", err)
	}
	if err := s.Start(); err != nil {
		return nil, fmt.Errorf("start scheduler: %w", err)
	}
	return s, nil
}

// servePprof serves Go's profiler on addr (HANDOVER_PPROF_ADDR, loopback
// only) until the returned stop is called.
func servePprof(addr string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (HANDOVER_PPROF_ADDR): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, nil
}
