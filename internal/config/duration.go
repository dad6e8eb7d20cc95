package config

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written as "15m", "20s" or "720h" in YAML and environment.
type Duration time.Duration

// D returns the standard library value.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (use e.g. \"30s\", \"15m\", \"720h\")", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML prints the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
