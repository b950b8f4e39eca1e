// Package devdb runs a private PostgreSQL cluster from the machine's
// installed server binaries, for development (`make run`) and tests when no
// database URL is given. It listens only on a unix socket inside the data
// directory, so it never clashes with a system server's TCP port.
package devdb

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoBinaries means the PostgreSQL server is not installed.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's `postgresql` package (sudo apt-get install -y postgresql), or set DATABASE_URL")

// Options tune the cluster.
type Options struct {
	// Fast trades durability for speed (fsync off): for test clusters only.
	Fast bool
	// Database is created on first start; default "accute".
	Database string
	Logger   *slog.Logger
}

// Cluster is a running private PostgreSQL.
type Cluster struct {
	DataDir   string
	SocketDir string
	Database  string
	bin       string
	runAs     string // unprivileged OS user when started as root
	log       *slog.Logger
}

// DSN returns the URL to connect as the superuser over the unix socket.
func (c *Cluster) DSN() string {
	return fmt.Sprintf("postgres:///%s?host=%s&port=5432&user=postgres&sslmode=disable", c.Database, c.SocketDir)
}

// FindBinaries returns the directory that holds initdb and pg_ctl.
func FindBinaries() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		dir := filepath.Dir(p)
		if resolved, err := filepath.EvalSymlinks(p); err == nil {
			dir = filepath.Dir(resolved)
		}
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	sort.Slice(matches, func(i, j int) bool { return versionOf(matches[i]) > versionOf(matches[j]) })
	for _, m := range matches {
		if _, err := os.Stat(filepath.Join(filepath.Dir(m), "initdb")); err == nil {
			return filepath.Dir(m), nil
		}
	}
	return "", ErrNoBinaries
}

func versionOf(p string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
	return n
}

// Start initialises the cluster under dir on first use and starts it.
// Starting an already running cluster is fine: it is reused.
func Start(ctx context.Context, dir string, opts Options) (*Cluster, error) {
	if opts.Database == "" {
		opts.Database = "accute"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{DataDir: filepath.Join(abs, "postgres"), SocketDir: filepath.Join(abs, "pgsock"), Database: opts.Database, bin: bin, log: opts.Logger}
	// Unix socket paths are limited to 107 bytes.
	if len(c.SocketDir)+len("/.s.PGSQL.5432") > 100 {
		c.SocketDir = filepath.Join(os.TempDir(), "accute-pg-"+pathTag(abs))
	}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		if _, err := user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("running as root needs the unprivileged `postgres` user to run the database; install Debian's postgresql package: %w", err)
		}
		c.runAs = "postgres"
	}
	for _, d := range []string{abs, c.DataDir, c.SocketDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	if c.runAs != "" {
		if err := c.prepareForUser(abs); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(c.DataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		c.log.Info("initialising embedded PostgreSQL", "dir", c.DataDir)
		if out, err := c.run(ctx, "initdb", "-D", c.DataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"); err != nil {
			return nil, fmt.Errorf("initdb: %w\n%s", err, out)
		}
	}
	if !c.running(ctx) {
		pgOpts := fmt.Sprintf("-k %s -p 5432 -c listen_addresses='' -c unix_socket_permissions=0700", c.SocketDir)
		if opts.Fast {
			pgOpts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
		} else {
			pgOpts += " -c max_connections=200"
		}
		logFile := filepath.Join(c.DataDir, "server.log")
		if out, err := c.run(ctx, "pg_ctl", "-D", c.DataDir, "-l", logFile, "-o", pgOpts, "-w", "-t", "60", "start"); err != nil {
			return nil, fmt.Errorf("start embedded PostgreSQL: %w\n%s\n(see %s)", err, out, logFile)
		}
	}
	if err := c.ensureDatabase(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// prepareForUser hands the directories to the unprivileged user, moving the
// cluster out of a tree that user cannot enter (such as /root).
func (c *Cluster) prepareForUser(abs string) error {
	if err := exec.Command("runuser", "-u", c.runAs, "--", "test", "-x", abs).Run(); err != nil {
		alt := filepath.Join("/var/lib/accute", "devdb-"+pathTag(abs))
		c.log.Warn("the postgres user cannot enter the data directory; keeping the cluster elsewhere", "dir", abs, "cluster", alt)
		c.DataDir = filepath.Join(alt, "postgres")
		if len(c.SocketDir) < 100 && strings.HasPrefix(c.SocketDir, abs) {
			c.SocketDir = filepath.Join(alt, "pgsock")
		}
		for _, d := range []string{"/var/lib/accute", alt, c.DataDir, c.SocketDir} {
			if err := os.MkdirAll(d, 0o711); err != nil {
				return err
			}
		}
		_ = os.Chmod("/var/lib/accute", 0o711)
		_ = os.Chmod(alt, 0o711)
		// Leave a pointer where people look for it.
		link := filepath.Join(abs, "postgres")
		if fi, err := os.Lstat(link); err == nil && fi.Mode()&os.ModeSymlink == 0 {
			_ = os.Remove(link) // the empty directory created above
		}
		_ = os.Symlink(c.DataDir, link)
	}
	for _, d := range []string{c.DataDir, c.SocketDir} {
		if out, err := exec.Command("chown", "-R", c.runAs+":"+c.runAs, d).CombinedOutput(); err != nil {
			return fmt.Errorf("chown %s: %w: %s", d, err, out)
		}
		_ = os.Chmod(d, 0o700)
	}
	return nil
}

// pathTag names a directory kept elsewhere for the checkout at abs.
func pathTag(abs string) string {
	sum := sha256.Sum256([]byte(abs))
	return fmt.Sprintf("%x", sum[:6])
}

func (c *Cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.runAs != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = os.TempDir()
	return cmd.CombinedOutput()
}

func (c *Cluster) running(ctx context.Context) bool {
	_, err := c.run(ctx, "pg_ctl", "-D", c.DataDir, "status")
	return err == nil
}

func (c *Cluster) ensureDatabase(ctx context.Context) error {
	admin := fmt.Sprintf("postgres:///postgres?host=%s&port=5432&user=postgres&sslmode=disable", c.SocketDir)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to embedded PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", c.Database).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{c.Database}.Sanitize()); err != nil {
			return fmt.Errorf("create database: %w", err)
		}
	}
	return nil
}

// Stop shuts the cluster down (fast mode: open sessions are ended).
func (c *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := c.run(ctx, "pg_ctl", "-D", c.DataDir, "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("stop embedded PostgreSQL: %w: %s", err, out)
	}
	return nil
}
