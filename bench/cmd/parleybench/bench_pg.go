package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parley/parley/bench/load"
)

// pgBaseDSN is the local PostgreSQL (PARLEY_TEST_POSTGRES_DSN overrides it, as for tests).
func pgBaseDSN() string {
	if v := os.Getenv("PARLEY_TEST_POSTGRES_DSN"); v != "" {
		return v
	}
	return "host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable"
}

// benchPostgres: join throughput of one and of two Parley instances sharing a fresh
// PostgreSQL database (the second in livekit.external mode on the first one's LiveKit),
// next to the single SQLite instance of the join benchmark.
func (h *harness) benchPostgres(ctx context.Context) {
	const g = "scale-out"
	name := "join, 2 instances on PostgreSQL"
	if reason := h.authNA + h.roomsNA; reason != "" {
		h.rep.na(g, name, "req/s", reason)
		return
	}
	dbName := "parleybench_" + randHex(4)
	admin, err := pgx.Connect(ctx, pgBaseDSN())
	if err != nil {
		h.rep.na(g, name, "req/s", "PostgreSQL: "+short(err.Error()))
		return
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+dbName); err != nil {
		h.rep.na(g, name, "req/s", "create database: "+short(err.Error()))
		return
	}
	defer func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+dbName+" WITH (FORCE)")
	}()
	dsn := regexp.MustCompile(`\s*dbname=\S+`).ReplaceAllString(pgBaseDSN(), "") + " dbname=" + dbName
	common := []string{"PARLEY_DATABASE_DRIVER=postgres", "PARLEY_DATABASE_DSN=" + dsn}
	a, err := h.startInstance(ctx, "pg-a", common...)
	if err == nil {
		_, err = a.waitReady(ctx, 60*time.Second)
	}
	if err != nil {
		h.rep.na(g, name, "req/s", "instance A: "+short(err.Error()))
		return
	}
	defer a.stop()
	lk := fmt.Sprintf("127.0.0.1:%d", a.lkPort)
	b, err := h.startInstance(ctx, "pg-b", append(common, "PARLEY_LIVEKIT_EXTERNAL=true",
		"PARLEY_LIVEKIT_HOST=ws://"+lk, "PARLEY_LIVEKIT_INTERNAL_HOST=http://"+lk)...)
	if err == nil {
		_, err = b.waitReady(ctx, 60*time.Second)
	}
	if err != nil {
		h.rep.na(g, name, "req/s", "instance B (external LiveKit): "+short(err.Error()))
		return
	}
	defer b.stop()

	api := newAPI(a.base)
	adm, err := api.login(ctx, h.sec.AdminEmail, h.sec.AdminPassword)
	if err != nil {
		h.rep.na(g, name, "req/s", "login: "+naReason(err))
		return
	}
	user, err := api.register(ctx, "bench-user@example.com", "bench-password-"+randHex(4), "Bench User")
	if err != nil {
		user = adm
	}
	if err := api.createRoom(ctx, adm.AccessToken, roomJoin); err != nil {
		h.rep.na(g, name, "req/s", "create room: "+naReason(err))
		return
	}
	for _, in := range []*instance{a, b} {
		if _, err := newAPI(in.base).join(ctx, user.AccessToken, roomJoin); err != nil {
			h.rep.na(g, name, "req/s", in.name+" join: "+naReason(err))
			return
		}
	}
	req := joinRequests(user.AccessToken, roomJoin)
	var one []load.Result
	_, two, err := h.loadRuns(ctx, "",
		func(int) (load.Result, error) {
			r, err := load.Run(ctx, h.opts([]string{a.addr}, h.conns, req, true))
			one = append(one, r)
			return r, err
		},
		func(int) (load.Result, error) {
			return load.Run(ctx, h.opts([]string{a.addr, b.addr}, h.conns, req, true))
		})
	if err != nil {
		h.rep.na(g, name, "req/s", err.Error())
		return
	}
	h.throughputFigures(g, "join, 1 instance on PostgreSQL", nil, one, false)
	h.throughputFigures(g, name, nil, two, false)
	var rps []float64
	for _, r := range two {
		rps = append(rps, r.RPS)
	}
	if sqlite := h.figure("join", "join"); sqlite != nil && sqlite.NA == "" && sqlite.Median > 0 {
		f := stat(g, "2 x PostgreSQL / 1 x SQLite", "ratio", []float64{stat("", "", "", rps).Median / sqlite.Median})
		f.Note = "same 2 cores for both instances and the generator: no room to scale here"
		h.rep.add(f)
	}
}

// figure finds a measured figure by group and name.
func (h *harness) figure(group, name string) *Figure {
	for i := range h.rep.Figures {
		if f := &h.rep.Figures[i]; f.Group == group && f.Name == name {
			return f
		}
	}
	return nil
}
