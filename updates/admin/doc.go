// Package admin puts the updater on boxd's local admin API (the unix socket
// boxctl talks to) and gives boxctl the matching client: resumable chunked
// upload of a .boxupdate, apply with progress, status, commit, abandon and
// key rotation. Handler implements services.AdminHandler. A Tracker runs
// one apply at a time for every front end and keeps its progress.
//
// Routes, all under /v1/updates/:
//
//	GET  status                      updates.Status, the apply in progress, the
//	                                 last apply's outcome, USB/feed offers
//	POST uploads          {"size":N} begin an upload → source.Upload
//	GET  uploads/{id}                source.Upload (to resume: send from Received)
//	PUT  uploads/{id}?offset=N       a chunk; 409 with source.Upload on a wrong offset
//	POST uploads/{id}/apply          finish the upload and apply it → updates.Result
//	POST offers/{id}/apply           apply a bundle found on USB or the feed
//	POST commit                      updates.Updater.Commit
//	POST abandon          {"why":s}  updates.Updater.Abandon
//	POST rotate           statement  updates.Updater.RotateKeys
//
// Errors are JSON {"error": reason} with 4xx for refusals, 5xx otherwise.
//
// It imports updates, updates/source and services.
package admin
