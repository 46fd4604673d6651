// Package wormvault holds the vocabulary shared by the server, the storage
// layers and the clients: retention modes, retention periods, legal holds,
// version ids, name validation and the sentinel errors that cross the wire.
//
// It is deliberately light: no Badger, no gRPC, no erasure coding. Both sides
// of the wire import it, so a client can test errors.Is(err,
// wormvault.ErrRetentionActive) exactly as the server does.
package wormvault
