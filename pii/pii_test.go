package pii_test

import (
	"context"
	"testing"

	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/pii/masterkey"
)

func keyring(t *testing.T, keys ...string) *pii.Keyring {
	t.Helper()
	var raw [][]byte
	for _, k := range keys {
		b, err := masterkey.Parse(k)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b)
	}
	kr, err := pii.NewKeyring(raw[0], raw[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestSealOpenIsBoundToContext(t *testing.T) {
	kr := keyring(t, masterkey.Generate())
	dk, _, err := kr.NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	ct := dk.Seal("+8613812345678", "c1/phone")
	if got, err := dk.Open(ct, "c1/phone"); err != nil || got != "+8613812345678" {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := dk.Open(ct, "c2/phone"); err == nil {
		t.Fatal("ciphertext moved to another customer still opens")
	}
	other, _, _ := kr.NewDataKey()
	if _, err := other.Open(ct, "c1/phone"); err == nil {
		t.Fatal("another customer's data key opens the ciphertext")
	}
}

func TestRotateRewrapsAndShredding(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		oldKey, newKey := masterkey.Generate(), masterkey.Generate()
		v, err := pii.OpenVault(ctx, db, keyring(t, oldKey))
		if err != nil {
			t.Fatal(err)
		}
		indexBefore := v.Index.Phone("+8613812345678")
		var keys []pii.CustomerKey
		var cts []string
		for _, id := range []string{"c1", "c2", "c3"} {
			dk, w, _ := v.Keys.NewDataKey()
			keys = append(keys, pii.CustomerKey{CustomerID: id, WrappedKey: w})
			cts = append(cts, dk.Seal("secret-"+id, id))
		}
		if err := db.InTx(ctx, func(tx *database.Tx) error { return pii.InsertCustomerKeys(ctx, tx, keys) }); err != nil {
			t.Fatal(err)
		}

		rotated, err := pii.OpenVault(ctx, db, keyring(t, newKey, oldKey))
		if err != nil {
			t.Fatal(err)
		}
		n, err := rotated.Rotate(ctx, db, nil)
		if err != nil || n != 4 {
			t.Fatalf("rotate = %d, %v; want 4 (3 customers + index key)", n, err)
		}
		// Only the new key is needed now, and the blind index is unchanged.
		onlyNew, err := pii.OpenVault(ctx, db, keyring(t, newKey))
		if err != nil {
			t.Fatal(err)
		}
		if onlyNew.Index.Phone("+8613812345678") != indexBefore {
			t.Fatal("blind index changed across rotation")
		}
		if err := db.InTx(ctx, func(tx *database.Tx) error { return pii.DestroyCustomerKey(ctx, tx, "c2") }); err != nil {
			t.Fatal(err)
		}
		dks, err := onlyNew.CustomerKeys(ctx, db, []string{"c1", "c2", "c3"})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := dks["c2"]; ok {
			t.Fatal("destroyed key still loads")
		}
		if got, err := dks["c3"].Open(cts[2], "c3"); err != nil || got != "secret-c3" {
			t.Fatalf("after rotation open = %q, %v", got, err)
		}
		if _, err := pii.OpenVault(ctx, db, keyring(t, oldKey)); err == nil {
			t.Fatal("old key alone still opens the vault after rotation")
		}
	})
}

func TestMasking(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{pii.MaskPhone("+8613812345678"), "138****5678"},
		{pii.MaskEmail("zhang@example.com"), "z***@example.com"},
		{pii.MaskName("张三丰"), "张**"},
		{pii.MaskText("上海市浦东新区世纪大道100号"), "上海市***"},
		{pii.MaskPhone("+1"), "*"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestMasksHideLength: a mask once showed one star per hidden character,
// so a masked name told its exact length.
func TestMasksHideLength(t *testing.T) {
	for _, names := range [][]string{{"张三", "张三丰", "张三丰四五六"}, {"Al", "Alice", "Alexander the Great"}} {
		for _, n := range names[1:] {
			if pii.MaskName(n) != pii.MaskName(names[0]) {
				t.Errorf("MaskName(%q) = %q, MaskName(%q) = %q: the lengths show", n, pii.MaskName(n), names[0], pii.MaskName(names[0]))
			}
		}
	}
	long := []string{"上海市浦东新区世纪大道100号", "上海市黄浦区人民大道200号附近一座很高的楼里"}
	if pii.MaskText(long[0]) != pii.MaskText(long[1]) {
		t.Errorf("MaskText shows the length: %q, %q", pii.MaskText(long[0]), pii.MaskText(long[1]))
	}
}

func TestEnvelopeRoundTripAndBinding(t *testing.T) {
	kr := keyring(t, masterkey.Generate())
	in := map[string]string{"from": "+8613812345678", "text": "退订"}
	env, err := kr.SealEnvelope(in, "inbound/e1")
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]string
	if err := kr.OpenEnvelope(env, "inbound/e1", &out); err != nil || out["text"] != "退订" {
		t.Fatalf("open = %v, %v", out, err)
	}
	if err := kr.OpenEnvelope(env, "inbound/e2", &out); err == nil {
		t.Fatal("envelope opened under another context")
	}
}
