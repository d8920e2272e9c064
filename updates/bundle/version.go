package bundle

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// A Version is MAJOR.MINOR.PATCH with an optional -PRERELEASE, which sorts
// before the release (1.2.0-rc1 < 1.2.0). Prereleases compare as strings.
type Version struct {
	Major, Minor, Patch uint32
	Pre                 string
}

// ParseVersion reads "1.2.3" or "1.2.3-beta.1" (an optional leading v).
func ParseVersion(s string) (Version, error) {
	orig := s
	s = strings.TrimPrefix(s, "v")
	core, pre, hasPre := strings.Cut(s, "-")
	if hasPre && (pre == "" || len(pre) > 32 || strings.ContainsFunc(pre, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-')
	})) {
		return Version{}, fmt.Errorf("bundle: version %q: bad prerelease", orig)
	}
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("bundle: version %q: want MAJOR.MINOR.PATCH", orig)
	}
	var n [3]uint32
	for i, p := range parts {
		if p == "" || len(p) > 1 && p[0] == '0' {
			return Version{}, fmt.Errorf("bundle: version %q: bad number %q", orig, p)
		}
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return Version{}, fmt.Errorf("bundle: version %q: bad number %q", orig, p)
		}
		n[i] = uint32(v)
	}
	return Version{n[0], n[1], n[2], pre}, nil
}

func (v Version) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Pre != "" {
		s += "-" + v.Pre
	}
	return s
}

// Compare returns -1, 0 or +1.
func (v Version) Compare(w Version) int {
	if c := cmp.Compare(v.Major, w.Major); c != 0 {
		return c
	}
	if c := cmp.Compare(v.Minor, w.Minor); c != 0 {
		return c
	}
	if c := cmp.Compare(v.Patch, w.Patch); c != 0 {
		return c
	}
	switch {
	case v.Pre == w.Pre:
		return 0
	case v.Pre == "":
		return 1
	case w.Pre == "":
		return -1
	}
	return cmp.Compare(v.Pre, w.Pre)
}
