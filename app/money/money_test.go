package money_test

import (
	"errors"
	"testing"

	"moat/app/money"
)

func totals(t *testing.T, code string, inclusive bool, r money.Rounding, lines ...money.Line) money.Totals {
	t.Helper()
	tt, err := money.Compute(code, inclusive, r, lines)
	if err != nil {
		t.Fatal(err)
	}
	return tt
}

func line(qty, price, discount, rate string) money.Line {
	return money.Line{Quantity: qty, UnitPrice: price, Discount: discount, TaxRate: rate}
}

// The amounts that break naive invoicing, worked out by hand.
func TestAmountsAreExact(t *testing.T) {
	cases := []struct {
		name            string
		code            string
		inclusive       bool
		rounding        money.Rounding
		lines           []money.Line
		net, tax, total string
	}{
		// Québec's QST: 8180 × 9.975 % = 815.955, half away from zero.
		{"a rate with three decimals", "CAD", false, money.PerLine, []money.Line{line("1", "8180", "0", "9.975")}, "8180.00", "815.96", "8995.96"},
		{"a full discount is exactly nothing", "EUR", false, money.PerLine, []money.Line{line("3", "19.99", "100", "20")}, "0.00", "0.00", "0.00"},
		{"yen have no minor unit", "JPY", false, money.PerLine, []money.Line{line("3", "333", "0", "10")}, "999", "100", "1099"},
		{"dinars have three", "BHD", false, money.PerLine, []money.Line{line("1", "1.2345", "0", "10")}, "1.235", "0.124", "1.359"},
		// Four lines of 0.10 at 15 %: each line's tax is 0.015 → 0.02, so 0.08 in all; on the
		// sum, 0.40 × 15 % = 0.06.
		{"per line", "EUR", false, money.PerLine, []money.Line{line("1", "0.10", "0", "15"), line("1", "0.10", "0", "15"),
			line("1", "0.10", "0", "15"), line("1", "0.10", "0", "15")}, "0.40", "0.08", "0.48"},
		{"per document", "EUR", false, money.PerDocument, []money.Line{line("1", "0.10", "0", "15"), line("1", "0.10", "0", "15"),
			line("1", "0.10", "0", "15"), line("1", "0.10", "0", "15")}, "0.40", "0.06", "0.46"},
		// 0.25 × 10 % = 0.025: half away from zero is 0.03 (half to even would be 0.02).
		{"halves round away from zero", "EUR", false, money.PerLine, []money.Line{line("1", "0.25", "0", "10")}, "0.25", "0.03", "0.28"},
		{"halves round away from zero, per document", "EUR", false, money.PerDocument, []money.Line{line("1", "0.25", "0", "10")}, "0.25", "0.03", "0.28"},
		{"prices with tax", "EUR", true, money.PerLine, []money.Line{line("1", "119", "0", "19")}, "100.00", "19.00", "119.00"},
		{"prices with tax, per document", "EUR", true, money.PerDocument, []money.Line{line("1", "10", "0", "19"), line("1", "10", "0", "19")},
			"16.81", "3.19", "20.00"},
		{"a discount of a third", "EUR", false, money.PerLine, []money.Line{line("3", "10", "33.33", "0")}, "20.00", "0.00", "20.00"},
		{"several rates", "EUR", false, money.PerLine, []money.Line{line("2", "10.00", "0", "20"), line("1", "5.50", "10", "5.5")},
			"24.95", "4.27", "29.22"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tt := totals(t, c.code, c.inclusive, c.rounding, c.lines...)
			if tt.Net.Number() != c.net || tt.Tax.Number() != c.tax || tt.Total.Number() != c.total {
				t.Fatalf("net %s tax %s total %s, want %s %s %s", tt.Net.Number(), tt.Tax.Number(), tt.Total.Number(), c.net, c.tax, c.total)
			}
			// The breakdown adds up to the totals.
			sumNet, sumTax := money.Amount("0", c.code), money.Amount("0", c.code)
			for _, r := range tt.ByRate {
				sumNet, _ = sumNet.Add(r.Net)
				sumTax, _ = sumTax.Add(r.Tax)
			}
			if !sumNet.Equal(tt.Net) || !sumTax.Equal(tt.Tax) {
				t.Fatalf("the breakdown sums to %s and %s, the totals are %s and %s", sumNet, sumTax, tt.Net, tt.Tax)
			}
		})
	}
}

func TestPerLineAndPerDocumentDiffer(t *testing.T) {
	lines := []money.Line{line("1", "0.03", "0", "20"), line("1", "0.03", "0", "20"), line("1", "0.03", "0", "20")}
	a := totals(t, "EUR", false, money.PerLine, lines...)     // 0.006 → 0.01, three times
	b := totals(t, "EUR", false, money.PerDocument, lines...) // 0.09 × 20 % = 0.018 → 0.02
	if a.Tax.Number() != "0.03" || b.Tax.Number() != "0.02" {
		t.Fatalf("per line %s, per document %s; want 0.03 and 0.02", a.Tax.Number(), b.Tax.Number())
	}
	if a.ByRate[0].Rate != "20" {
		t.Fatalf("rate %q, want 20", a.ByRate[0].Rate)
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]string{"1": "1", "1.50": "1.5", " 2,25 ": "2.25", "0": "0", "100": "100", "007.5": "7.5"} {
		if got, err := money.Parse(in, 6, 4, "0", "100000"); err != nil || got != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", " ", "abc", "1e3", "NaN", "Infinity", "1.23456", "-1", "1,000.50", "1.2.3", "100001", "+1", ".5", "5.", "1 000", "0x10", "1_0"} {
		if got, err := money.Parse(in, 6, 4, "0", "100000"); !errors.Is(err, money.ErrDecimal) {
			t.Errorf("Parse(%q) = %q, %v; want ErrDecimal", in, got, err)
		}
	}
	if !money.ValidCurrency("EUR") || money.ValidCurrency("eur") || money.ValidCurrency("") || money.ValidCurrency("XYZ") {
		t.Error("ValidCurrency")
	}
	if got := money.Format(money.Amount("1234.5", "EUR")); got != "€1,234.50" {
		t.Errorf("Format: %q", got)
	}
}

func TestPriceShowsTheMinorUnitsAtLeast(t *testing.T) {
	for _, c := range []struct{ n, code, want string }{
		{"2.5000", "EUR", "2.50"}, {"1800", "EUR", "1800.00"}, {"0.1250", "EUR", "0.125"}, {"1500.0000", "JPY", "1500"},
		{"3.1", "BHD", "3.100"}, {"12.3456", "JPY", "12.3456"},
	} {
		if got := money.Price(c.n, c.code); got != c.want {
			t.Errorf("Price(%s, %s) = %s, want %s", c.n, c.code, got, c.want)
		}
	}
}
