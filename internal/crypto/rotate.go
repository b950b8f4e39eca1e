package crypto

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Column names one encrypted column, so that `accute keys rotate` can
// re-encrypt it with the current key.
//
// Registering a column: the package that owns the column exports its
// Column values (auth.EncryptedColumns is the example), and main.go's
// encryptedColumns() concatenates them. Use the same AD function when
// sealing, so that rotation and the application agree:
//
//	var EncryptedColumns = []crypto.Column{{
//		Table: "saml_connections", Column: "sp_private_key",
//		Key: []string{"organization_id", "id"},
//		AD:  func(key []string) []byte { return SPKeyAD(key[0], key[1]) },
//	}}
//
// Tenant tables are fine: rotation runs in platform mode (row-level
// security opened to every organization).
type Column struct {
	Table  string   // table name
	Column string   // the sealed column: bytea (Seal) or, with Text, base64 text (SealString)
	Key    []string // the primary key's columns, identifying a row
	Text   bool     // true for base64 text columns
	// AD returns the associated data the row's value was sealed with,
	// given the row's key values as text, in Key order.
	AD func(key []string) []byte
}

// Name is table.column.
func (c Column) Name() string { return c.Table + "." + c.Column }

// Beginner starts transactions (a *pgxpool.Pool).
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// RotateResult counts what Rotate did to one column.
type RotateResult struct {
	Column    string
	Rotated   int // re-encrypted with the current key
	Current   int // already under the current key
	Failed    int // could not be opened (unknown key or tampered)
	FailedKey []string
}

// Rotate re-encrypts every value of every column that is not sealed with
// the ring's current key, batch rows per transaction. Each update is
// conditional on the value being unchanged, so the application may keep
// running. Values that cannot be opened are left alone and reported; the
// error then says how many.
func Rotate(ctx context.Context, db Beginner, ring *KeyRing, cols []Column, batch int) ([]RotateResult, error) {
	if batch <= 0 {
		batch = 500
	}
	var results []RotateResult
	failed := 0
	for _, col := range cols {
		res, err := rotateColumn(ctx, db, ring, col, batch)
		if err != nil {
			return results, fmt.Errorf("rotate %s: %w", col.Name(), err)
		}
		failed += res.Failed
		results = append(results, res)
	}
	if failed > 0 {
		return results, fmt.Errorf("%d value(s) could not be opened with the configured keys and were left as they are", failed)
	}
	return results, nil
}

func rotateColumn(ctx context.Context, db Beginner, ring *KeyRing, col Column, batch int) (RotateResult, error) {
	res := RotateResult{Column: col.Name()}
	if len(col.Key) == 0 || col.AD == nil {
		return res, errors.New("column needs Key and AD")
	}
	table := pgx.Identifier{col.Table}.Sanitize()
	value := pgx.Identifier{col.Column}.Sanitize()
	keys := make([]string, len(col.Key))
	keysText := make([]string, len(col.Key))
	params := make([]string, len(col.Key))
	for i, k := range col.Key {
		keys[i] = pgx.Identifier{k}.Sanitize()
		keysText[i] = keys[i] + "::text"
		params[i] = fmt.Sprintf("$%d", i+1)
	}
	keyList := strings.Join(keys, ", ")
	// Keyset pagination in primary-key order; the first page has no lower
	// bound.
	first := fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s IS NOT NULL ORDER BY %s LIMIT %d FOR UPDATE",
		strings.Join(keysText, ", "), value, table, value, keyList, batch)
	next := fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s IS NOT NULL AND (%s) > (%s) ORDER BY %s LIMIT %d FOR UPDATE",
		strings.Join(keysText, ", "), value, table, value, keyList, strings.Join(params, ", "), keyList, batch)
	where := make([]string, len(col.Key))
	for i := range col.Key {
		where[i] = fmt.Sprintf("%s = $%d", keys[i], i+2)
	}
	update := fmt.Sprintf("UPDATE %s SET %s = $1 WHERE %s AND %s = $%d", table, value, strings.Join(where, " AND "), value, len(col.Key)+2)

	var cursor []any
	for {
		n, last, err := rotateBatch(ctx, db, ring, col, &res, first, next, update, cursor)
		if err != nil {
			return res, err
		}
		if n < batch {
			return res, nil
		}
		cursor = last
	}
}

// rotateBatch handles one page of rows in one transaction.
func rotateBatch(ctx context.Context, db Beginner, ring *KeyRing, col Column, res *RotateResult, first, next, update string, cursor []any) (int, []any, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// Row-level security would hide other organizations' rows.
	if _, err := tx.Exec(ctx, "SELECT set_config('app.platform', 'on', true)"); err != nil {
		return 0, nil, err
	}
	query := first
	if cursor != nil {
		query = next
	}
	rows, err := tx.Query(ctx, query, cursor...)
	if err != nil {
		return 0, nil, err
	}
	type row struct {
		key   []string
		value []byte // raw sealed bytes
		orig  any    // the value as stored, for the conditional update
	}
	var page []row
	for rows.Next() {
		keys := make([]string, len(col.Key))
		dest := make([]any, 0, len(keys)+1)
		for i := range keys {
			dest = append(dest, &keys[i])
		}
		var r row
		if col.Text {
			var s string
			dest = append(dest, &s)
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return 0, nil, err
			}
			r.orig = s
			if b, err := base64.StdEncoding.DecodeString(s); err == nil {
				r.value = b
			}
		} else {
			var b []byte
			dest = append(dest, &b)
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return 0, nil, err
			}
			r.orig, r.value = b, b
		}
		r.key = keys
		page = append(page, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, nil, err
	}
	for _, r := range page {
		if ring.Current(r.value) {
			res.Current++
			continue
		}
		ad := col.AD(r.key)
		pt, err := ring.Open(r.value, ad)
		if err != nil {
			res.Failed++
			res.FailedKey = append(res.FailedKey, strings.Join(r.key, "/"))
			continue
		}
		sealed, err := ring.Seal(pt, ad)
		if err != nil {
			return 0, nil, err
		}
		var newValue any = sealed
		if col.Text {
			newValue = base64.StdEncoding.EncodeToString(sealed)
		}
		args := []any{newValue}
		for _, k := range r.key {
			args = append(args, k)
		}
		args = append(args, r.orig)
		if _, err := tx.Exec(ctx, update, args...); err != nil {
			return 0, nil, err
		}
		res.Rotated++
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, nil, err
	}
	var last []any
	if len(page) > 0 {
		for _, k := range page[len(page)-1].key {
			last = append(last, k)
		}
	}
	return len(page), last, nil
}
