package plugin

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

// sheet is what the CSV and XLSX outputs write: titled columns and rows of typed values. A value
// is a string, an integer, a dateTime, a day, an amount, or nil for an empty cell.
type sheet struct {
	name    string
	columns []string
	rows    [][]any
}

// dateTime is a moment, written in UTC as a date and time.
type dateTime time.Time

// day is a calendar date.
type day time.Time

// amount is an amount of money in cents, in its currency.
type amount struct {
	cents    licensing.Money
	currency string
}

func (a amount) String() string {
	if a.currency == "" {
		return a.cents.String()
	}
	return a.cents.String() + " " + a.currency
}

// Layouts of dates and times in tables and CSV: UTC, to the second.
const (
	dateTimeLayout = "2006-01-02 15:04:05"
	dayLayout      = "2006-01-02"
)

// dayOf is an API date as a day cell value: nil when empty, the text as it is when it is not a
// date.
func dayOf(d v1alpha1.Date) any {
	if d == "" {
		return nil
	}
	t, err := time.Parse(dayLayout, string(d))
	if err != nil {
		return string(d)
	}
	return day(t)
}

// text is a value as CSV writes it: a moment as "2006-01-02 15:04:05" (UTC), a day as
// "2006-01-02", an amount as a plain decimal such as "1260.00" (its currency has a column of its
// own), nil as "".
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case dateTime:
		return time.Time(v).UTC().Format(dateTimeLayout)
	case day:
		return time.Time(v).Format(dayLayout)
	case amount:
		return v.cents.String()
	case int:
		return strconv.Itoa(v)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return fmt.Sprint(v)
}

// safeText is a text cell of a CSV file as a spreadsheet opens it safely: text that a spreadsheet
// would read as a formula, because it starts with =, +, -, @, a tab or a carriage return, is
// prefixed with a single quote, so that Excel, LibreOffice and Google Sheets show it as the text
// it is and never run it (CSV injection). Text comes from people (references, customers, cost
// centers, user names); numbers, amounts and dates are written as they are.
func safeText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// writeCSV writes the sheet as CSV per RFC 4180: a header row, fields quoted when they hold a
// comma, a quote or a line break, and CRLF line endings. Text that a spreadsheet would read as a
// formula is neutralized (safeText).
func writeCSV(w io.Writer, s sheet) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(s.columns); err != nil {
		return err
	}
	rec := make([]string, len(s.columns))
	for _, row := range s.rows {
		for i := range rec {
			rec[i] = ""
			if i < len(row) {
				rec[i] = text(row[i])
				if str, ok := row[i].(string); ok {
					rec[i] = safeText(str)
				}
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Number formats of the XLSX cells.
const (
	xlsxDateTimeFormat = "yyyy-mm-dd hh:mm:ss"
	xlsxDayFormat      = "yyyy-mm-dd"
)

// xlsxAmountFormat is the number format of an amount in currency: "#,##0.00 "EUR"".
func xlsxAmountFormat(currency string) string {
	if currency == "" {
		return "#,##0.00"
	}
	return `#,##0.00 "` + currency + `"`
}

// writeXLSX writes the sheets as one workbook: a bold header row that stays in view, column widths
// that fit the contents, moments and days as Excel dates with a date number format, amounts as
// numbers with a currency number format, and integers as numbers. Text is written as text cells,
// never as formulas: "=1+1" in a reference shows as =1+1 and is not computed.
func writeXLSX(w io.Writer, sheets ...sheet) error {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newXLSXStyles(f)
	if err != nil {
		return err
	}
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(s.name); err != nil {
			return err
		}
		if err := writeXLSXSheet(f, st, s); err != nil {
			return fmt.Errorf("sheet %s: %w", s.name, err)
		}
	}
	_, err = f.WriteTo(w)
	return err
}

// xlsxStyles are the cell styles of a workbook, one per kind of value and currency.
type xlsxStyles struct {
	f                     *excelize.File
	header, dateTime, day int
	amounts               map[string]int
}

func newXLSXStyles(f *excelize.File) (*xlsxStyles, error) {
	st := &xlsxStyles{f: f, amounts: map[string]int{}}
	var err error
	if st.header, err = f.NewStyle(&excelize.Style{
		Font:   &excelize.Font{Bold: true},
		Fill:   excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
		Border: []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}},
	}); err != nil {
		return nil, err
	}
	dt, dy := xlsxDateTimeFormat, xlsxDayFormat
	if st.dateTime, err = f.NewStyle(&excelize.Style{CustomNumFmt: &dt}); err != nil {
		return nil, err
	}
	if st.day, err = f.NewStyle(&excelize.Style{CustomNumFmt: &dy}); err != nil {
		return nil, err
	}
	return st, nil
}

func (st *xlsxStyles) amount(currency string) (int, error) {
	if id, ok := st.amounts[currency]; ok {
		return id, nil
	}
	format := xlsxAmountFormat(currency)
	id, err := st.f.NewStyle(&excelize.Style{CustomNumFmt: &format})
	st.amounts[currency] = id
	return id, err
}

// xlsxCell is a value as an XLSX cell.
func (st *xlsxStyles) xlsxCell(v any) (any, error) {
	switch v := v.(type) {
	case dateTime:
		return excelize.Cell{StyleID: st.dateTime, Value: time.Time(v).UTC()}, nil
	case day:
		return excelize.Cell{StyleID: st.day, Value: time.Time(v)}, nil
	case amount:
		id, err := st.amount(v.currency)
		// A float for display only: the amount is exact in cents, and two decimals survive a
		// float64 for every amount the API allows.
		return excelize.Cell{StyleID: id, Value: float64(v.cents) / 100}, err
	}
	return v, nil
}

// widthOf is the width of a column that shows v.
func widthOf(v any) int {
	switch v := v.(type) {
	case dateTime:
		return len(dateTimeLayout)
	case amount:
		return len(v.cents.String()) + len(v.currency) + 3 // the thousands separators, the space
	}
	return utf8.RuneCountInString(text(v))
}

func writeXLSXSheet(f *excelize.File, st *xlsxStyles, s sheet) error {
	sw, err := f.NewStreamWriter(s.name)
	if err != nil {
		return err
	}
	for i, title := range s.columns {
		width := utf8.RuneCountInString(title) + 2
		for _, row := range s.rows {
			if i < len(row) {
				width = max(width, widthOf(row[i])+2)
			}
		}
		if err := sw.SetColWidth(i+1, i+1, float64(min(width, 60))); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	header := make([]any, len(s.columns))
	for i, title := range s.columns {
		header[i] = excelize.Cell{StyleID: st.header, Value: title}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	for r, row := range s.rows {
		cells := make([]any, len(row))
		for i, v := range row {
			if cells[i], err = st.xlsxCell(v); err != nil {
				return err
			}
		}
		ref, err := excelize.CoordinatesToCellName(1, r+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(ref, cells); err != nil {
			return err
		}
	}
	return sw.Flush()
}
