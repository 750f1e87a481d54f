// Package money computes invoice amounts exactly: decimal arithmetic (bojanz/currency over
// cockroachdb/apd), each currency's ISO 4217 minor units (JPY 0, EUR 2, BHD 3), rounding half
// away from zero, and never a float. The same lines always give the same totals, so stored
// totals can be recomputed and compared.
package money

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bojanz/currency"
	"github.com/cockroachdb/apd/v3"
)

// Rounding says where tax is rounded to the currency's minor unit.
type Rounding string

// The rounding rules an invoice may use.
const (
	PerLine     Rounding = "line"     // each line's tax is rounded, then summed
	PerDocument Rounding = "document" // each rate's tax is computed on the sum of its lines, rounded once
)

// Line is one invoice line as stored: decimals as text.
type Line struct {
	Quantity  string
	UnitPrice string // with or without tax, as the invoice says
	Discount  string // percent, 0 to 100
	TaxRate   string // percent
}

// LineAmounts are a line's net amount and tax, in the currency's minor units.
type LineAmounts struct {
	Net, Tax currency.Amount
}

// RateTotal is the part of an invoice taxed at one rate.
type RateTotal struct {
	Rate     string // percent, as the lines give it, normalized (9.975, 20)
	Net, Tax currency.Amount
}

// Totals are what an invoice's lines add up to.
type Totals struct {
	Lines  []LineAmounts
	ByRate []RateTotal // by rate, ascending
	Net    currency.Amount
	Tax    currency.Amount
	Total  currency.Amount
}

// Compute works out the totals of lines in currency code, with prices that include tax or not,
// under rounding. Every amount is rounded half away from zero to the currency's digits: line
// nets always, taxes per line or per rate as rounding says.
func Compute(code string, inclusive bool, rounding Rounding, lines []Line) (Totals, error) {
	zero, err := currency.NewAmount("0", code)
	if err != nil {
		return Totals{}, err
	}
	t := Totals{Net: zero.Round(), Tax: zero.Round(), Total: zero.Round()}
	type acc struct{ net, tax, gross currency.Amount }
	rates := map[string]*acc{}
	for i, l := range lines {
		rate, err := normalized(l.TaxRate)
		if err != nil {
			return Totals{}, fmt.Errorf("line %d: tax rate: %w", i+1, err)
		}
		// The amount before tax rounding: quantity × price × (100 − discount) / 100.
		price, err := currency.NewAmount(l.UnitPrice, code)
		if err != nil {
			return Totals{}, fmt.Errorf("line %d: unit price: %w", i+1, err)
		}
		keep, err := sub("100", l.Discount)
		if err != nil {
			return Totals{}, fmt.Errorf("line %d: discount: %w", i+1, err)
		}
		amount, err := mul(price, l.Quantity, keep)
		if err != nil {
			return Totals{}, fmt.Errorf("line %d: %w", i+1, err)
		}
		amount, err = amount.Div("100")
		if err != nil {
			return Totals{}, err
		}
		amount = amount.Round() // the line's amount, as the invoice shows it
		var la LineAmounts
		if inclusive {
			// The amount includes tax: net = amount × 100 / (100 + rate).
			if la.Net, err = netOf(amount, rate); err != nil {
				return Totals{}, err
			}
			if la.Tax, err = amount.Sub(la.Net); err != nil {
				return Totals{}, err
			}
		} else {
			la.Net = amount
			if la.Tax, err = mul(amount, rate); err != nil {
				return Totals{}, err
			}
			if la.Tax, err = la.Tax.Div("100"); err != nil {
				return Totals{}, err
			}
			la.Tax = la.Tax.Round()
		}
		t.Lines = append(t.Lines, la)
		a := rates[rate]
		if a == nil {
			a = &acc{zero, zero, zero}
			rates[rate] = a
		}
		if a.net, err = a.net.Add(la.Net); err != nil {
			return Totals{}, err
		}
		if a.tax, err = a.tax.Add(la.Tax); err != nil {
			return Totals{}, err
		}
		if a.gross, err = a.gross.Add(amount); err != nil {
			return Totals{}, err
		}
	}
	keys := make([]string, 0, len(rates))
	for r := range rates {
		keys = append(keys, r)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp(a, b) })
	for _, r := range keys {
		a := rates[r]
		rt := RateTotal{Rate: r, Net: a.net.Round(), Tax: a.tax.Round()}
		if rounding == PerDocument {
			// One rounding for the rate, on the sum of its lines.
			if inclusive {
				if rt.Net, err = netOf(a.gross, r); err != nil {
					return Totals{}, err
				}
				if rt.Tax, err = a.gross.Round().Sub(rt.Net); err != nil {
					return Totals{}, err
				}
			} else {
				tax, err := mul(a.net, r)
				if err != nil {
					return Totals{}, err
				}
				if tax, err = tax.Div("100"); err != nil {
					return Totals{}, err
				}
				rt.Tax = tax.Round()
			}
		}
		t.ByRate = append(t.ByRate, rt)
		if t.Net, err = t.Net.Add(rt.Net); err != nil {
			return Totals{}, err
		}
		if t.Tax, err = t.Tax.Add(rt.Tax); err != nil {
			return Totals{}, err
		}
	}
	if t.Total, err = t.Net.Add(t.Tax); err != nil {
		return Totals{}, err
	}
	return t, nil
}

// netOf is the net part of gross, which includes tax at rate percent, rounded.
func netOf(gross currency.Amount, rate string) (currency.Amount, error) {
	hundred, err := currency.NewAmount("100", gross.CurrencyCode())
	if err != nil {
		return currency.Amount{}, err
	}
	base, err := add("100", rate)
	if err != nil {
		return currency.Amount{}, err
	}
	scaled, err := mul(gross, hundred.Number())
	if err != nil {
		return currency.Amount{}, err
	}
	net, err := scaled.Div(base)
	if err != nil {
		return currency.Amount{}, err
	}
	return net.Round(), nil
}

// mul multiplies a by each factor in turn, exactly.
func mul(a currency.Amount, factors ...string) (currency.Amount, error) {
	var err error
	for _, f := range factors {
		if a, err = a.Mul(f); err != nil {
			return currency.Amount{}, err
		}
	}
	return a, nil
}

var exact = apd.BaseContext.WithPrecision(40)

func decimal(s string) (*apd.Decimal, error) {
	d, _, err := apd.NewFromString(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a number", s)
	}
	return d, nil
}

func sub(a, b string) (string, error) { return op(a, b, exact.Sub) }

func add(a, b string) (string, error) { return op(a, b, exact.Add) }

func op(a, b string, f func(d, x, y *apd.Decimal) (apd.Condition, error)) (string, error) {
	x, err := decimal(a)
	if err != nil {
		return "", err
	}
	y, err := decimal(b)
	if err != nil {
		return "", err
	}
	var d apd.Decimal
	if _, err := f(&d, x, y); err != nil {
		return "", err
	}
	return d.Text('f'), nil
}

// normalized is s without trailing zeros: 20.000 is 20, 9.9750 is 9.975.
func normalized(s string) (string, error) {
	d, err := decimal(s)
	if err != nil {
		return "", err
	}
	var r apd.Decimal
	r.Reduce(d)
	return r.Text('f'), nil
}

func cmp(a, b string) int {
	x, _ := decimal(a)
	y, _ := decimal(b)
	return x.Cmp(y)
}

// ErrDecimal means a value is not a decimal Moat accepts.
var ErrDecimal = errors.New("not a decimal")

// Parse reads a decimal as a person types it ("1234.5", "1234,5", " 12 "), and returns it in
// the canonical form (1234.5) if it has at most intDigits digits before the point and scale
// after it, and lies in [min, max].
func Parse(s string, intDigits, scale int, min, max string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	if s == "" || strings.ContainsAny(s, "eEnN+_ ") || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
		return "", ErrDecimal
	}
	d, err := decimal(s)
	if err != nil || d.Form != apd.Finite {
		return "", ErrDecimal
	}
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if len(strings.TrimLeft(whole, "0")) > intDigits || len(frac) > scale {
		return "", ErrDecimal
	}
	lo, _ := decimal(min)
	hi, _ := decimal(max)
	if d.Cmp(lo) < 0 || d.Cmp(hi) > 0 {
		return "", ErrDecimal
	}
	return normalized(s)
}

// Digits is how many decimals currency code's minor unit has: JPY 0, EUR 2, BHD 3.
func Digits(code string) int {
	d, _ := currency.GetDigits(code)
	return int(d)
}

// Trim is the decimal n without trailing zeros, as a quantity or rate shows: 2.5000 is 2.5.
func Trim(n string) string {
	t, err := normalized(n)
	if err != nil {
		return n
	}
	return t
}

// Price is the unit price n as a document shows it: at least the currency's minor units, more
// when the price has them (2.5 EUR is 2.50; 0.125 EUR stays 0.125).
func Price(n, code string) string {
	t := Trim(n)
	whole, frac, _ := strings.Cut(t, ".")
	if d := Digits(code); len(frac) < d {
		frac += strings.Repeat("0", d-len(frac))
	}
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}

// ValidCurrency reports whether code is an ISO 4217 currency code.
func ValidCurrency(code string) bool {
	_, ok := currency.GetDigits(code)
	return ok && len(code) == 3
}

// Amount is n in currency code, rounded to its minor unit; n must be a valid decimal.
func Amount(n, code string) currency.Amount {
	a, err := currency.NewAmount(n, code)
	if err != nil {
		panic(fmt.Sprintf("money: %v", err))
	}
	return a.Round()
}

// Format shows a in English, with its currency symbol: €1,234.50.
func Format(a currency.Amount) string { return formatter.Format(a.Round()) }

var formatter = newFormatter()

func newFormatter() *currency.Formatter {
	f := currency.NewFormatter(currency.NewLocale("en"))
	f.MaxDigits = 3
	return f
}

// Sum is a + b for decimals as text, exactly (quantities and costs, not rounded to a currency).
func Sum(a, b string) string { return must(add(a, b)) }

// Difference is a − b for decimals as text, exactly.
func Difference(a, b string) string { return must(sub(a, b)) }

// Compare is -1, 0 or 1 as decimal a is less than, equal to or greater than b.
func Compare(a, b string) int { return cmp(a, b) }

// must is a decimal computed from valid decimals, which cannot fail at 40 digits of precision.
func must(s string, err error) string {
	if err != nil {
		panic(fmt.Sprintf("money: %v", err))
	}
	r, _ := normalized(s)
	return r
}

// Product is a × b for decimals as text, exactly: a quantity at a cost is a value.
func Product(a, b string) string { return must(op(a, b, exact.Mul)) }
