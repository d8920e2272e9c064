// Package vcard keeps and serves XEP-0054 vcard-temp: a user sets their
// own vCard; anyone may get any local account's vCard.
//
// It imports database/sql, elem, offline (for parsing stored XML) and router.
package vcard
