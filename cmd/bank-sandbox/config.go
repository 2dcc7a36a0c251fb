package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// fileConfig is the --config file (JSON or YAML). Command-line flags given
// explicitly override it.
type fileConfig struct {
	Addr            string `json:"addr"`
	Seed            *int64 `json:"seed"`
	DatasetSize     string `json:"datasetSize"`
	RefreshMode     string `json:"refreshMode"`
	RefreshGrace    string `json:"refreshGrace"`
	ConsentDuration string `json:"consentDuration"`
	TokenAlgorithm  string `json:"tokenAlgorithm"`
	PublicURL       string `json:"publicURL"`
	V3WebhookURI    string `json:"v3WebhookURI"`
	UnattendedLimit *int   `json:"unattendedLimit"`
	// NewAccountIDsOnReconsent: see sandbox.Options.
	NewAccountIDsOnReconsent *bool          `json:"newAccountIDsOnReconsent"`
	Clients                  []clientConfig `json:"clients"`
}

type clientConfig struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
	// Name is the application name the consent screen shows.
	Name         string   `json:"name"`
	RedirectURIs []string `json:"redirectURIs"`
}

func loadConfig(path string) (fileConfig, error) {
	var cfg fileConfig
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read config: %w", err)
	}
	ext := strings.ToLower(filepath.Ext(path))
	if ext == ".yaml" || ext == ".yml" {
		err = yaml.UnmarshalStrict(b, &cfg)
	} else {
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		err = dec.Decode(&cfg)
	}
	if err != nil {
		return cfg, fmt.Errorf("parse config %s: %w", path, err)
	}
	return cfg, nil
}
