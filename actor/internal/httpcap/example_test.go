package httpcap_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/theater-go/theater/actor/internal/httpcap"
)

// A grant that names a host does not reach loopback unless it says so:
// the address is checked when the connection is dialled.
func Example() {
	c, err := httpcap.New(httpcap.Policy{Hosts: []string{"localhost"}, Schemes: []string{"http"}, Ports: []int{8080}})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = c.Do(context.Background(), httpcap.Request{Method: "GET", URL: "http://localhost:8080/"})
	fmt.Println(errors.Is(err, httpcap.ErrDenied))
	_, err = c.Do(context.Background(), httpcap.Request{Method: "GET", URL: "http://example.org:8080/"})
	fmt.Println(err)
	// Output:
	// true
	// httpcap: denied: host "example.org"
}
