package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
)

// FerretDB 1.24's SQLite backend runs the read and the write of one command as separate
// steps, so concurrent conditional updates (findAndModify or update with a filter on a
// version) can all "win", where MongoDB guarantees single-document atomicity. serializer
// restores that guarantee for a development server: it relays the MongoDB wire protocol
// and lets one write command at a time reach FerretDB. Reads run in parallel: each sees a
// document either before or after a write (SQLite updates one row atomically), which is what
// MongoDB promises too.

const (
	opMsg       = 2013
	headerSize  = 16
	maxMessage  = 48 * 1024 * 1024
	moreToCome  = 1 << 1
	checksumBit = 1 << 0
)

// serialized lists the commands that write: they run one at a time.
var serialized = map[string]bool{
	"insert": true, "update": true, "delete": true, "findandmodify": true,
	"create": true, "createindexes": true, "drop": true, "dropindexes": true,
	"dropdatabase": true, "renamecollection": true,
}

type serializer struct {
	backend string
	logger  *slog.Logger
	mu      sync.Mutex
}

func (s *serializer) serve(listener net.Listener) error {
	for {
		client, err := listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go s.relay(client)
	}
}

func (s *serializer) relay(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", s.backend)
	if err != nil {
		s.logger.Error("cannot reach FerretDB", "error", err)
		return
	}
	defer server.Close()

	for {
		request, err := readMessage(client)
		if err != nil {
			return
		}
		if err = s.roundTrip(request, server, client); err != nil {
			if !errors.Is(err, io.EOF) {
				s.logger.Debug("relay ended", "error", err)
			}
			return
		}
	}
}

// roundTrip forwards one request and, unless the client asked for no reply, its reply.
func (s *serializer) roundTrip(request []byte, server, client net.Conn) error {
	if needsLock(request) {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	if _, err := server.Write(request); err != nil {
		return err
	}
	if isOpMsg(request) && flags(request)&moreToCome != 0 {
		return nil // an unacknowledged write: no reply comes
	}
	for {
		reply, err := readMessage(server)
		if err != nil {
			return err
		}
		if _, err = client.Write(reply); err != nil {
			return err
		}
		// An exhaust reply (streaming hello) is followed by more replies to the same request.
		if !isOpMsg(reply) || flags(reply)&moreToCome == 0 {
			return nil
		}
	}
}

func readMessage(conn net.Conn) ([]byte, error) {
	header := make([]byte, headerSize)
	if _, err := io.ReadFull(conn, header); err != nil {
		return nil, err
	}
	length := int(binary.LittleEndian.Uint32(header))
	if length < headerSize || length > maxMessage {
		return nil, fmt.Errorf("invalid message length %d", length)
	}
	message := make([]byte, length)
	copy(message, header)
	if _, err := io.ReadFull(conn, message[headerSize:]); err != nil {
		return nil, err
	}
	return message, nil
}

func isOpMsg(message []byte) bool {
	return binary.LittleEndian.Uint32(message[12:16]) == opMsg && len(message) >= headerSize+4
}

func flags(message []byte) uint32 {
	return binary.LittleEndian.Uint32(message[headerSize : headerSize+4])
}

// needsLock reports whether the request is a command that writes (or one it cannot read).
func needsLock(message []byte) bool {
	if !isOpMsg(message) {
		return false // legacy OP_QUERY is only used for the initial handshake
	}
	name, ok := commandName(message)
	return !ok || serialized[strings.ToLower(name)]
}

// commandName returns the first key of the OP_MSG body section, which names the command.
func commandName(message []byte) (string, bool) {
	body := message[headerSize+4:]
	if flags(message)&checksumBit != 0 && len(body) >= 4 {
		body = body[:len(body)-4]
	}
	// Section kind 0 is the command document; it comes first in the messages drivers send.
	if len(body) < 1+4+1 || body[0] != 0 {
		return "", false
	}
	element := body[1+4:] // skip kind and the document length
	if len(element) < 2 {
		return "", false
	}
	end := 1
	for end < len(element) && element[end] != 0 {
		end++
	}
	if end >= len(element) {
		return "", false
	}
	return string(element[1:end]), true
}
