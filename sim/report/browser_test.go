package report_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/meshreach/meshreach/sim"
	"github.com/meshreach/meshreach/sim/report"
)

// chromium returns the path of a headless-capable Chromium, or skips the
// test with the reason.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed (Debian package chromium): the HTML report is not checked in a browser")
	return ""
}

// runChromium runs headless Chromium with a fresh profile and no network
// features, and returns its standard output.
func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// TestHTMLInChromium opens the matrix page in headless Chromium: the
// screenshot must be the window's size and show more than a blank page
// (the header's colour, the heat map's colours), following a heat-map
// cell must show its drill-down, and the DOM must hold every cell's trace.
func TestHTMLInChromium(t *testing.T) {
	bin := chromium(t)
	t.Parallel()
	m := seedMatrix(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "matrix.html")
	if err := os.WriteFile(page, render(t, &report.MatrixReport{Matrix: m}, report.Options{Format: report.HTML}), 0o644); err != nil {
		t.Fatal(err)
	}
	url := "file://" + page

	dom := string(runChromium(t, bin, "--dump-dom", url))
	for _, want := range []string{
		`<table class="heat" id="heat">`,
		`href="#pair-payments--shop"`,
		`<section class="pair" id="pair-payments--shop">`,
		"payments/checkout → shop/cart:8080",
		"[peer-authentication]", // a step of a trace, inside the drill-down
		"PeerAuthentication shop/default",
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the DOM lacks %q", want)
		}
	}
	// Every cell of the matrix has its trace in the page.
	cells := 0
	for range m.Cells(sim.Filter{}) {
		cells++
	}
	if got := len(regexp.MustCompile(`<details[ >]`).FindAllString(dom, -1)); got != cells {
		t.Errorf("the DOM has %d drill-down entries, want one per cell (%d)", got, cells)
	}

	top := screenshot(t, bin, dir, "top.png", url)
	checkPicture(t, "top of the page", top)
	// The header bar is the page's dark slate (#263238).
	if r, g, b := rgb(top.At(20, 10)); r != 0x26 || g != 0x32 || b != 0x38 {
		t.Errorf("pixel (20,10) = #%02x%02x%02x, want the header's #263238", r, g, b)
	}
	// Following a cell scrolls to its drill-down, so the picture changes.
	drill := screenshot(t, bin, dir, "drill.png", url+"#pair-payments--shop")
	checkPicture(t, "drill-down", drill)
	if same(top, drill) {
		t.Error("the screenshot with #pair-payments--shop equals the top of the page: the drill-down did not open")
	}
}

func screenshot(t *testing.T, bin, dir, name, url string) image.Image {
	t.Helper()
	out := filepath.Join(dir, name)
	runChromium(t, bin, "--screenshot="+out, "--window-size=1280,900", "--hide-scrollbars", url)
	f, err := os.Open(out)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if dst := os.Getenv("MESHREACH_SCREENSHOTS"); dst != "" {
		if b, err := os.ReadFile(out); err == nil {
			_ = os.WriteFile(filepath.Join(dst, name), b, 0o644)
		}
	}
	return img
}

// checkPicture wants a 1280×900 picture that is not blank: many colours,
// and a good share of pixels that are not background white.
func checkPicture(t *testing.T, what string, img image.Image) {
	t.Helper()
	b := img.Bounds()
	if b.Dx() != 1280 || b.Dy() != 900 {
		t.Errorf("%s: screenshot is %dx%d, want 1280x900", what, b.Dx(), b.Dy())
	}
	colours := map[[3]uint8]bool{}
	ink := 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl := rgb(img.At(x, y))
			colours[[3]uint8{r, g, bl}] = true
			if r < 240 || g < 240 || bl < 240 {
				ink++
			}
		}
	}
	total := (b.Dx() / 2) * (b.Dy() / 2)
	if len(colours) < 50 {
		t.Errorf("%s: only %d distinct colours: the page looks blank", what, len(colours))
	}
	if ink*100 < total*3 {
		t.Errorf("%s: only %d of %d sampled pixels are not white", what, ink, total)
	}
}

func rgb(c interface{ RGBA() (r, g, b, a uint32) }) (uint8, uint8, uint8) {
	r, g, b, _ := c.RGBA()
	return uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)
}

func same(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}
