// Package pdf prints HTML to PDF with headless Chromium: one browser, started on first use and
// kept, and a tab per document. Documents carry everything they show (styles included), load
// nothing from the network and run no script.
package pdf

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
)

// ErrUnavailable means there is no Chromium to print with.
var ErrUnavailable = errors.New("pdf: no Chromium to print with")

// Printer prints with the Chromium at its path.
type Printer struct {
	path string

	mu      sync.Mutex
	browser context.Context // nil until the first Print
	stop    []context.CancelFunc
}

// New returns a Printer using the Chromium at path (Debian's: /usr/bin/chromium).
func New(path string) *Printer { return &Printer{path: path} }

// Print renders html, a whole document, to an A4 PDF.
func (p *Printer) Print(ctx context.Context, html string) ([]byte, error) {
	browser, err := p.start()
	if err != nil {
		return nil, err
	}
	tab, closeTab := chromedp.NewContext(browser)
	defer closeTab()
	tab, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel) // the caller gave up
	defer stop()
	if err := chromedp.Do(tab, chromedp.Navigate("data:text/html;charset=utf-8,"+url.PathEscape(html))); err != nil {
		return nil, fmt.Errorf("pdf: load: %w", err)
	}
	out, err := chromedp.Run(tab, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFMargins(0.5, 0.5, 0.6, 0.5),
		chromedp.PDFPrintBackground()))
	if err != nil {
		return nil, fmt.Errorf("pdf: print: %w", err)
	}
	return out, nil
}

// start starts the browser once, or returns the one running.
func (p *Printer) start() (context.Context, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.browser != nil {
		return p.browser, nil
	}
	if _, err := os.Stat(p.path); err != nil {
		return nil, fmt.Errorf("%w at %s", ErrUnavailable, p.path)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(p.path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("blink-settings", "scriptEnabled=false"),
	)
	alloc, stopAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, stopBrowser := chromedp.NewContext(alloc)
	if err := chromedp.Do(browser); err != nil { // starts it, for as long as browser lives
		stopBrowser()
		stopAlloc()
		return nil, fmt.Errorf("pdf: start Chromium: %w", err)
	}
	p.browser, p.stop = browser, []context.CancelFunc{stopBrowser, stopAlloc}
	return browser, nil
}

// Close stops the browser, if it runs.
func (p *Printer) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, stop := range p.stop {
		stop()
	}
	p.browser, p.stop = nil, nil
}
