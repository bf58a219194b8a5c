// pgx v4 (Debian's golang-github-jackc-pgx-v4-dev) against a pgconn
// `--format pgx` URL (tests/drivers.rs). Built offline in GOPATH mode:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o pgx_check tests/drivers/pgx_check.go
//
// usage: DRIVER_URL=... pgx_check whoami|pool
//
// DRIVER_URL is the URL as `pgconn url` printed it, with only what pgconn's
// stderr note says to change for pgx v4 (it holds the password, so it never
// goes on the command line). DRIVER_ROUNDS: transactions per connection in
// `pool` (default 12).
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v4"
)

const query = "select $1::int + 1 as n, pg_backend_pid() as pid"

func connect(ctx context.Context) (*pgx.Conn, error) {
	return pgx.Connect(ctx, os.Getenv("DRIVER_URL"))
}

func whoami(ctx context.Context) error {
	c, err := connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	var user string
	if err := c.QueryRow(ctx, "select current_user").Scan(&user); err != nil {
		return err
	}
	fmt.Printf("current_user=%s\n", user)
	return nil
}

// one transaction: begin, the parameterised query, left open for the caller
func beginRun(ctx context.Context, c *pgx.Conn, i int, pids map[uint32]bool) (pgx.Tx, error) {
	tx, err := c.Begin(ctx)
	if err != nil {
		return nil, err
	}
	var n int
	var pid uint32
	if err := tx.QueryRow(ctx, query, i).Scan(&n, &pid); err != nil {
		return nil, err
	}
	if n != i+1 {
		return nil, fmt.Errorf("wrong answer %d for %d", n, i)
	}
	pids[pid] = true
	return tx, nil
}

// interleaved transactions on two connections, B one ahead (as the other checks)
func pool(ctx context.Context) error {
	rounds := 12
	if s := os.Getenv("DRIVER_ROUNDS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil {
			rounds = n
		}
	}
	a, err := connect(ctx)
	if err != nil {
		return err
	}
	defer a.Close(ctx)
	b, err := connect(ctx)
	if err != nil {
		return err
	}
	defer b.Close(ctx)
	pidsA, pidsB := map[uint32]bool{}, map[uint32]bool{}
	tx, err := beginRun(ctx, b, -1, pidsB)
	if err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	for i := 0; i < rounds; i++ {
		txA, err := beginRun(ctx, a, i, pidsA)
		if err != nil {
			return err
		}
		txB, err := beginRun(ctx, b, i, pidsB)
		if err != nil {
			return err
		}
		if err := txA.Commit(ctx); err != nil {
			return err
		}
		if err := txB.Commit(ctx); err != nil {
			return err
		}
	}
	fmt.Printf("backend_pids_a=%d backend_pids_b=%d\n", len(pidsA), len(pidsB))
	fmt.Printf("pool ok rounds=%d\n", rounds)
	return nil
}

func main() {
	mode := "whoami"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var err error
	switch mode {
	case "whoami":
		err = whoami(ctx)
	case "pool":
		err = pool(ctx)
	default:
		fmt.Fprintf(os.Stderr, "unknown mode %s\n", mode)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}
