package xmpp

import (
	"crypto/tls"
	"net"
)

func tlsClient(nc net.Conn, maxVersion uint16) *tls.Conn {
	return tls.Client(nc, &tls.Config{InsecureSkipVerify: true, MaxVersion: maxVersion, MinVersion: tls.VersionTLS10})
}
