package plugin

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

func TestCSVQuotesPerRFC4180(t *testing.T) {
	refs := []string{"PO-1", "PO 4711, rush", `the "big" one`, "line one\nline two", " leading space", ""}
	var orders []v1alpha1.LicenseOrder
	for i, ref := range refs {
		o := order("acme", "eul-"+strconv.Itoa(i+1), march10, v1alpha1.ChangeNew, "21.29", march10)
		o.Spec.PurchaseReference = ref
		orders = append(orders, o)
	}
	var buf bytes.Buffer
	if err := writeCSV(&buf, historySheet(orders)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Date/Time (UTC),User,SKU,Product,Payment plan,Reference,Change,New qty,State,Charge,Currency,",
		`,"PO 4711, rush",`,
		`,"the ""big"" one",`,
		"\"line one\r\nline two\"", // a line break in a field is CRLF too, inside the quotes
		"2026-03-10 09:30:15,alice,T-EUL,t-eul,Monthly,PO-1,New,13,Fulfilled,21.29,EUR,acme,eul-1,eul,Acme Corporation,sales-emea,10,2026-03-10,2026-03-10 09:30:15,\r\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the CSV does not hold %q:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(out, "\r\n") || strings.Count(out, "\r\n") != len(refs)+2 || strings.Count(out, "\n") != len(refs)+2 {
		t.Errorf("want %d records ended by CRLF (and one in a field), got:\n%q", len(refs)+1, out)
	}
	// What a CSV reader reads back is what was written.
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(refs)+1 {
		t.Fatalf("read %d records, want %d", len(recs), len(refs)+1)
	}
	for i, ref := range refs {
		if got := recs[i+1][5]; got != ref {
			t.Errorf("record %d: reference %q, want %q", i+1, got, ref)
		}
	}
}

func TestCSVValues(t *testing.T) {
	tests := []struct {
		value any
		want  string
	}{
		{nil, ""},
		{"x,y", "x,y"},
		{int32(13), "13"},
		{dateTime(time.Date(2026, 3, 10, 9, 30, 15, 0, time.FixedZone("CET", 3600))), "2026-03-10 08:30:15"},
		{day(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)), "2026-03-10"},
		{amount{cents: 126000, currency: "EUR"}, "1260.00"},
		{amount{cents: 5, currency: "EUR"}, "0.05"},
		{dayOf(""), ""},
		{dayOf("2026-03-10"), "2026-03-10"},
		{amountOf("12.5", "EUR"), "12.50"},
		{amountOf("", "EUR"), ""},
	}
	for _, tt := range tests {
		if got := text(tt.value); got != tt.want {
			t.Errorf("text(%#v) = %q, want %q", tt.value, got, tt.want)
		}
	}
}

// readBack opens a workbook written by writeXLSX.
func readBack(t *testing.T, sheets ...sheet) *excelize.File {
	t.Helper()
	var buf bytes.Buffer
	if err := writeXLSX(&buf, sheets...); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatalf("a spreadsheet cannot open the workbook: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// numFmt is the number format of a cell.
func numFmt(t *testing.T, f *excelize.File, sheetName, ref string) string {
	t.Helper()
	id, err := f.GetCellStyle(sheetName, ref)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.CustomNumFmt == nil {
		return ""
	}
	return *st.CustomNumFmt
}

func raw(t *testing.T, f *excelize.File, sheetName, ref string) string {
	t.Helper()
	v, err := f.GetCellValue(sheetName, ref, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestXLSXCellsReadBack(t *testing.T) {
	o := order("acme", "eul-2", march10, v1alpha1.ChangeIncreaseQuantity, "1234.56", march10.Add(time.Minute))
	o.Spec.PurchaseReference = "PO 4711, \"rush\""
	pending := order("acme", "eul-3", march10.Add(time.Hour), v1alpha1.ChangeRenewal, "", time.Time{})
	f := readBack(t, historySheet([]v1alpha1.LicenseOrder{o, pending}))

	const s = "Order History"
	if got := f.GetSheetList(); len(got) != 1 || got[0] != s {
		t.Fatalf("sheets %v, want [%s]", got, s)
	}
	header, err := f.GetRows(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := header[0][:3]; strings.Join(got, "|") != "Date/Time (UTC)|User|SKU" {
		t.Errorf("header row %v", header[0])
	}

	// A2, the date and time the order was placed: an Excel date (a serial number of days since
	// 1899-12-30) with a date-time number format.
	if got := numFmt(t, f, s, "A2"); got != xlsxDateTimeFormat {
		t.Errorf("A2 number format %q, want %q", got, xlsxDateTimeFormat)
	}
	serial, err := strconv.ParseFloat(raw(t, f, s, "A2"), 64)
	if err != nil {
		t.Fatalf("A2 is not a number: %v", err)
	}
	back, err := excelize.ExcelDateToTime(serial, false)
	if err != nil {
		t.Fatal(err)
	}
	if d := back.Sub(march10); d > time.Second || d < -time.Second {
		t.Errorf("A2 reads back as %s, want %s", back, march10)
	}
	if got, _ := f.GetCellValue(s, "A2"); got != "2026-03-10 09:30:15" {
		t.Errorf("A2 shows %q", got)
	}

	// J2, the charge: a number with a currency number format.
	if got := raw(t, f, s, "J2"); got != "1234.56" {
		t.Errorf("J2 raw value %q, want 1234.56", got)
	}
	if got := numFmt(t, f, s, "J2"); got != `#,##0.00 "EUR"` {
		t.Errorf("J2 number format %q", got)
	}
	if typ, _ := f.GetCellType(s, "J2"); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Errorf("J2 cell type %v, want a number", typ)
	}
	// H2, the new quantity: a number. F2, the reference: text, as it was.
	if got := raw(t, f, s, "H2"); got != "13" {
		t.Errorf("H2 %q, want 13", got)
	}
	if got, _ := f.GetCellValue(s, "F2"); got != "PO 4711, \"rush\"" {
		t.Errorf("F2 %q", got)
	}
	// R2, the effective date: a date with a date number format.
	if got := numFmt(t, f, s, "R2"); got != xlsxDayFormat {
		t.Errorf("R2 number format %q, want %q", got, xlsxDayFormat)
	}
	if got, _ := f.GetCellValue(s, "R2"); got != "2026-03-10" {
		t.Errorf("R2 shows %q", got)
	}
	// An order without a charge has an empty charge cell.
	if got := raw(t, f, s, "J3"); got != "" {
		t.Errorf("J3 %q, want empty", got)
	}
	// Column widths fit the contents.
	for col, min := range map[string]float64{"A": 19, "F": 16, "O": 16} {
		if w, _ := f.GetColWidth(s, col); w < min {
			t.Errorf("column %s is %.0f wide, want at least %.0f", col, w, min)
		}
	}
}

func TestXLSXStatementWorkbook(t *testing.T) {
	orders := []v1alpha1.LicenseOrder{
		order("acme", "eul-1", march10, v1alpha1.ChangeNew, "100.00", march10),
		order("acme", "eul-2", march10, v1alpha1.ChangeIncreaseQuantity, "0.10", march10),
	}
	p, _ := parsePeriod("2026-03")
	st := buildStatement(orders, p, byCostCenter)
	f := readBack(t, st.summarySheet(), st.linesSheet())
	if got := f.GetSheetList(); strings.Join(got, "|") != "Statement 2026-03|Charges 2026-03" {
		t.Fatalf("sheets %v", got)
	}
	rows, _ := f.GetRows("Statement 2026-03")
	if len(rows) != 3 || rows[1][0] != "sales-emea" || rows[2][0] != "Total" {
		t.Fatalf("summary rows %q", rows)
	}
	if got := raw(t, f, "Statement 2026-03", "D3"); got != "100.1" {
		t.Errorf("the total reads %q, want 100.1", got)
	}
}
