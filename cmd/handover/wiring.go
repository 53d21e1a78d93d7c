package main

import (
	"context"
	"io"

	"github.com/handoverhq/handover/app"
	"github.com/handoverhq/handover/config"
)

// Main is a command's process: its streams and environment, and the
// application it builds (package app) in dependency order: config → log
// → database → keys → stores, then queue → channels → services for the
// commands that run them. Nothing is global.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Environ        []string

	app.App
}

// loadConfig reads the configuration and builds the logger.
func (m *Main) loadConfig() error {
	cfg, err := config.Load(m.Environ)
	if err != nil {
		return err
	}
	m.Config = cfg
	m.Log = app.NewLogger(cfg, m.Stderr)
	return nil
}

// openStores opens and migrates the database, loads the keys and builds
// the domain stores.
func (m *Main) openStores(ctx context.Context) error {
	if m.Config == nil {
		if err := m.loadConfig(); err != nil {
			return err
		}
	}
	return m.OpenStores(ctx)
}
