package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/parley/parley/bench/load"
)

// api is a small client for setting benchmarks up (never for the measured load).
type api struct {
	base string
	http *http.Client
}

// apiError is a non-2xx answer.
type apiError struct {
	Status int
	Body   string
}

func (e *apiError) Error() string { return fmt.Sprintf("status %d: %s", e.Status, short(e.Body)) }

func newAPI(base string) *api { return &api{base: base, http: &http.Client{Timeout: 10 * time.Second}} }

// do sends a JSON request and decodes a JSON answer into out (when not nil).
func (a *api) do(ctx context.Context, method, path, bearer string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return &apiError{Status: resp.StatusCode, Body: string(b)}
	}
	if out != nil && len(b) > 0 {
		return json.Unmarshal(b, out)
	}
	return nil
}

type session struct {
	AccessToken string `json:"accessToken"`
	User        struct {
		ID string `json:"id"`
	} `json:"user"`
}

type joinAnswer struct {
	Token    string `json:"token"`
	URL      string `json:"url"`
	Identity string `json:"identity"`
}

type participant struct {
	Identity string `json:"identity"`
	State    string `json:"state"`
}

func (a *api) login(ctx context.Context, email, password string) (session, error) {
	var s session
	err := a.do(ctx, "POST", "/api/auth/login", "", map[string]string{"email": email, "password": password}, &s)
	return s, err
}

func (a *api) register(ctx context.Context, email, password, name string) (session, error) {
	var s session
	err := a.do(ctx, "POST", "/api/auth/register", "", map[string]string{"email": email, "password": password, "name": name}, &s)
	return s, err
}

func (a *api) createRoom(ctx context.Context, bearer, name string) error {
	return a.do(ctx, "POST", "/api/rooms", bearer, map[string]any{"name": name, "title": name, "public": true}, nil)
}

func (a *api) join(ctx context.Context, bearer, room string) (joinAnswer, error) {
	var j joinAnswer
	err := a.do(ctx, "POST", "/api/rooms/"+room+"/join", bearer, map[string]string{}, &j)
	return j, err
}

// participantState is identity's state in the room's live state, "" when it is not listed.
func (a *api) participantState(ctx context.Context, bearer, room, identity string) (string, error) {
	var l struct {
		Items []participant `json:"items"`
	}
	if err := a.do(ctx, "GET", "/api/rooms/"+room+"/participants", bearer, nil, &l); err != nil {
		return "", err
	}
	for _, p := range l.Items {
		if p.Identity == identity {
			return p.State, nil
		}
	}
	return "", nil
}

// overview is the part of GET /api/admin/overview the benchmarks read.
type overview struct {
	LiveKit struct {
		State    string `json:"state"`
		Restarts int    `json:"restarts"`
	} `json:"livekit"`
}

func (a *api) overview(ctx context.Context, bearer string) (overview, error) {
	var o overview
	err := a.do(ctx, "GET", "/api/admin/overview", bearer, nil, &o)
	return o, err
}

// post sends one prepared load request with net/http (for probes before a load run).
func post(url string, r load.Request) (int, string) {
	req, err := http.NewRequest(r.Method, url, bytes.NewReader(r.Body))
	if err != nil {
		return 0, err.Error()
	}
	for _, kv := range r.Header {
		req.Header.Set(kv[0], kv[1])
	}
	resp, err := probe.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
