// The Go peer: net/http/fcgi serving the hello response on a TCP socket.
package main

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/fcgi"
	"os"
)

func main() {
	listener, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(fcgi.Serve(listener, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "Hello, world!\n")
	})))
}
