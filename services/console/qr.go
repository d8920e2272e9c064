package console

import (
	"fmt"

	qrcode "github.com/skip2/go-qrcode"
)

// qrPNG renders s as a QR code PNG, server-side so the page needs no script
// and no third-party service. Medium error correction: survives a phone
// camera at an angle, keeps invite URLs at a low version.
func qrPNG(s string, size int) ([]byte, error) {
	png, err := qrcode.Encode(s, qrcode.Medium, size)
	if err != nil {
		return nil, fmt.Errorf("console: qr code: %w", err)
	}
	return png, nil
}
