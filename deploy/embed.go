package deploy

import _ "embed"

// SystemdUnit is parley.service: the one unit the release archive, the Debian package and
// `parley install` ship.
//
//go:embed parley.service
var SystemdUnit string

// ServiceConfig is config.yaml, installed as /etc/parley/config.yaml for the service.
//
//go:embed config.yaml
var ServiceConfig string
