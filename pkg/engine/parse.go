package engine

import "github.com/Masterminds/semver/v3"

// ParseVersion reads a version as the engine does (Masterminds semver after
// one leading "v"), for packages that reason about raw tags and values.
func ParseVersion(s string) (*semver.Version, error) { return parseVersion(s) }
