package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/chatsecure/box/config/atomicfile"
)

// FileName is the config file's name inside the data directory.
const FileName = "config.json"

// maxFileSize bounds what Load reads: a config file is a few KiB.
const maxFileSize = 1 << 20

// Load reads path over base (Default or Dev): fields the file does not name
// keep base's value. A missing file is not an error: the box runs on base.
// Every other problem is an error that names the file and, where it can,
// the field.
func Load(path string, base Config) (Config, error) {
	c := base
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return c, fmt.Errorf("config: %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return c, fmt.Errorf("config: %s: larger than %d bytes", path, maxFileSize)
	}
	if err := Parse(data, &c); err != nil {
		return base, fmt.Errorf("config: %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes data over c and validates the result.
func Parse(data []byte, c *Config) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return describeJSONError(data, err)
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return c.Validate()
}

func describeJSONError(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := position(data, se.Offset)
		return fmt.Errorf("line %d, column %d: %v", line, col, se)
	case errors.As(err, &te):
		return &FieldError{Field: te.Field, Reason: fmt.Sprintf("want %s, got %s", typeName(te.Type.String()), te.Value)}
	case errors.Is(err, io.EOF):
		return errors.New("empty file")
	}
	return err
}

func position(data []byte, off int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < off && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// Save validates c and writes it to path atomically (mode 0600: it may name
// key files).
func Save(path string, c Config) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("config: not saved: %w", err)
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return atomicfile.WriteFile(path, append(data, '\n'), 0o600)
}

func typeName(t string) string {
	if t == "config.Duration" {
		return "a duration such as \"30s\""
	}
	return t
}
