package providers

import (
	"context"
	"fmt"

	"github.com/wasmlattice/wash/lattice/host/wrpcbridge"
	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/lattice/wrpc/interfaces"
	"github.com/wasmlattice/wash/runtime/cabi"
)

// wasmcloud:postgres over wRPC. Calls have one shape on every path: a function of
// interfaces.Postgres, the component's arguments, the WIT result value. A component's call
// goes to a PostgresBackend: the builtin's session when the provider runs on the same host,
// RemotePostgres when it runs elsewhere (ours, or upstream's sqldb-postgres); the builtin
// serves the same functions to other hosts (Exports). Values cross the wire by the declared
// types, which are upstream's WIT.

// PostgresBackend runs one wasmcloud:postgres function for a component: args and the result
// are component values (the result is the function's result<…>). An error means the call
// could not be made, and fails the component's call.
type PostgresBackend interface {
	Call(ctx context.Context, f *interfaces.Func, args []cabi.Value) (cabi.Value, error)
}

// pgUnexpected is f's error result with its "unexpected" case (every function's error type
// has one).
func pgUnexpected(f *interfaces.Func, msg string) cabi.Value {
	et := f.Type.Results[0].Err
	for i, c := range et.Cases {
		if c.Name == "unexpected" {
			return cabi.Err(cabi.VariantValue{Case: uint32(i), Value: msg})
		}
	}
	return cabi.Err(cabi.VariantValue{Case: uint32(len(et.Cases) - 1), Value: msg})
}

func pgArg(a []cabi.Value, i int) cabi.Value {
	if i < len(a) {
		return a[i]
	}
	return nil
}

// Call implements PostgresBackend on the provider's pool.
func (s *PostgresSession) Call(ctx context.Context, f *interfaces.Func, a []cabi.Value) (cabi.Value, error) {
	text, _ := pgArg(a, 0).(string)
	switch f {
	case interfaces.PostgresQueryFunc:
		rows, qe := s.Query(ctx, text, pgArg(a, 1))
		if qe != nil {
			return cabi.Err(*qe), nil
		}
		return cabi.Ok(rows), nil
	case interfaces.PostgresQueryBatchFunc:
		if qe := s.QueryBatch(ctx, text); qe != nil {
			return cabi.Err(*qe), nil
		}
		return cabi.Ok(nil), nil
	case interfaces.PostgresPrepareFunc:
		tok, pe := s.Prepare(ctx, text)
		if pe != nil {
			return cabi.Err(*pe), nil
		}
		return cabi.Ok(tok), nil
	case interfaces.PostgresExecFunc:
		n, ee := s.Exec(ctx, text, pgArg(a, 1))
		if ee != nil {
			return cabi.Err(*ee), nil
		}
		return cabi.Ok(n), nil
	}
	return nil, fmt.Errorf("wasmcloud:postgres has no function %s#%s", f.Instance, f.Name)
}

// Exports serves wasmcloud:postgres query and prepared over wRPC, as upstream's
// sqldb-postgres does: each call opens the pool of the link it came through.
func (p *PostgresProvider) Exports(caller CallerLink) []wrpc.Export {
	out := make([]wrpc.Export, 0, len(interfaces.Postgres))
	for _, f := range interfaces.Postgres {
		out = append(out, serveFunc(f, func(ctx context.Context, args []wrpc.Value) ([]wrpc.Value, error) {
			res, err := p.serve(ctx, caller, f, args)
			if err != nil {
				return nil, err
			}
			return wrpcbridge.Results(f.Type, []cabi.Value{res})
		}))
	}
	return out
}

func (p *PostgresProvider) serve(ctx context.Context, caller CallerLink, f *interfaces.Func, args []wrpc.Value) (cabi.Value, error) {
	link, err := caller(ctx, "wasmcloud", "postgres")
	if err != nil {
		return pgUnexpected(f, err.Error()), nil
	}
	s, err := p.Open(link)
	if err != nil {
		return pgUnexpected(f, err.Error()), nil
	}
	cargs, err := wrpcbridge.ParamsFromWire(f.Type, args)
	if err != nil {
		return nil, err // undecodable values: the call fails, as any malformed invocation
	}
	return s.Call(ctx, f, cargs)
}

// RemotePostgres is a wasmcloud:postgres provider elsewhere in the lattice (a builtin on
// another host, or upstream's sqldb-postgres), reached over wRPC.
type RemotePostgres struct {
	Conn       *wrpc.Conn
	Invocation wrpc.Invocation
	// Fail turns a call that could not be made into the error that fails the component's
	// call (nil: a LinkError with the call's error).
	Fail func(error) error
}

// Call implements PostgresBackend.
func (r *RemotePostgres) Call(ctx context.Context, f *interfaces.Func, args []cabi.Value) (cabi.Value, error) {
	wargs, err := wrpcbridge.Params(f.Type, args)
	if err != nil {
		return nil, fmt.Errorf("%s#%s: %w", f.Instance, f.Name, err)
	}
	inv := r.Invocation
	inv.Instance, inv.Func = f.Instance, f.Name
	res, err := r.Conn.Invoke(ctx, inv, f.Type, wargs)
	if err != nil {
		return nil, failWith(r.Fail, fmt.Errorf("%s.%s: %w", f.Instance, f.Name, err))
	}
	out, err := wrpcbridge.ResultsFromWire(f.Type, res)
	if err != nil {
		return nil, failWith(r.Fail, fmt.Errorf("%s.%s: %w", f.Instance, f.Name, err))
	}
	return out[0], nil
}
