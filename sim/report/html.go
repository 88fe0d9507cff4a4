package report

import (
	"fmt"
	"html/template"
	"io"
	"strings"
)

// page is what the HTML template renders: an optional heat map, tables,
// and sections of items whose details (explanations) unfold on demand.
type page struct {
	Title    string
	Subtitle string
	Heat     *heatMap // nil: no heat map
	Legend   bool     // show the transport colour legend
	Tables   []table
	// Sections are the drill-down: with a heat map each section is hidden
	// until its heat-map cell is followed (its ID is the fragment); without
	// one they are all shown.
	Sections []section
}

// heatMap is the namespace-pair grid of a matrix.
type heatMap struct {
	Namespaces []string // column order (destination namespaces)
	Rows       []heatRow
}

type heatRow struct {
	Namespace string // source namespace
	Cells     []heatCell
}

// heatCell is one (source namespace, destination namespace) pair.
type heatCell struct {
	ID                                         string // the section's fragment; "" when the pair has no cells
	Total, MTLS, TLS, Plain, Denied, Undecided int
	Style                                      template.CSS // background and text colour
	Title                                      string       // tooltip
}

// section is a group of drill-down items.
type section struct {
	ID    string
	Title string
	Note  string
	Items []item
}

// item is one row of a drill-down: a one-line summary and its
// explanation, shown when the row is opened.
type item struct {
	Summary string
	Class   string // transport class for the colour mark: mtls, tls, plaintext, deny, other
	Detail  string // preformatted
}

// Counts returns the non-zero counts: "2 mTLS · 1 plaintext".
func (c heatCell) Counts() string {
	var parts []string
	for _, s := range []struct {
		n    int
		name string
	}{{c.MTLS, "mTLS"}, {c.TLS, "TLS"}, {c.Plain, "plaintext"}, {c.Denied, "denied"}, {c.Undecided, "undecided"}} {
		if s.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", s.n, s.name))
		}
	}
	return strings.Join(parts, " · ")
}

// Bars returns the widths, in percent, of the stacked bar segments.
func (c heatCell) Bars() []bar {
	if c.Total == 0 {
		return nil
	}
	var out []bar
	for _, s := range []struct {
		class string
		n     int
	}{{"mtls", c.MTLS}, {"tls", c.TLS}, {"plaintext", c.Plain}, {"deny", c.Denied}, {"undecided", c.Undecided}} {
		if s.n > 0 {
			out = append(out, bar{Class: s.class, Width: template.CSS(fmt.Sprintf("width:%.2f%%", 100*float64(s.n)/float64(c.Total)))})
		}
	}
	return out
}

type bar struct {
	Class string
	Width template.CSS
}

// heatStyle colours a namespace pair: the hue goes from green (everything
// allowed travels as mTLS or TLS) to orange (everything allowed travels as
// plaintext), and the colour fades to grey as the share of denied
// connections grows.
func heatStyle(c heatCell) template.CSS {
	if c.Total == 0 {
		return "background:#f4f4f4;color:#888"
	}
	allowed := c.MTLS + c.TLS + c.Plain
	if allowed == 0 {
		return "background:#d9d9d9;color:#333"
	}
	plain := float64(c.Plain) / float64(allowed)
	mix := func(a, b, t float64) float64 { return a + (b-a)*t }
	r, g, b := mix(46, 230, plain), mix(125, 81, plain), mix(50, 0, plain)
	fade := 0.8 * float64(c.Denied+c.Undecided) / float64(c.Total)
	r, g, b = mix(r, 217, fade), mix(g, 217, fade), mix(b, 217, fade)
	text := "#fff"
	if 0.299*r+0.587*g+0.114*b > 150 {
		text = "#111"
	}
	return template.CSS(fmt.Sprintf("background:rgb(%d,%d,%d);color:%s", int(r+0.5), int(g+0.5), int(b+0.5), text))
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
:root{--mtls:#2e7d32;--tls:#1565c0;--plaintext:#e65100;--deny:#9e9e9e;--undecided:#8e24aa;--line:#ddd}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;color:#1b1b1b;background:#fff}
header{background:#263238;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px;font-weight:600}
header p{margin:4px 0 0;color:#cfd8dc}
main{padding:16px 24px 40px;max-width:1400px}
h2{font-size:16px;margin:24px 0 8px}
.legend{display:flex;gap:16px;flex-wrap:wrap;margin:8px 0 4px;color:#444}
.legend span::before{content:"";display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:-1px;border-radius:2px;background:var(--c)}
.mtls{--c:var(--mtls)}.tls{--c:var(--tls)}.plaintext{--c:var(--plaintext)}.deny{--c:var(--deny)}.undecided{--c:var(--undecided)}.other{--c:#555}
table{border-collapse:collapse;margin:4px 0 12px}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f5f7f8;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table.heat th.corner{background:#fff;border:none;color:#666;font-weight:400;font-size:12px}
table.heat td{padding:0;min-width:120px}
table.heat a,table.heat span.empty{display:block;padding:6px 10px 8px;color:inherit;text-decoration:none}
table.heat a:hover,table.heat a:focus{outline:3px solid #263238;outline-offset:-3px}
.total{font-size:18px;font-weight:700}
.counts{display:block;font-size:12px}
.bar{display:flex;height:7px;margin-top:6px;background:#fff;border:1px solid #fff}
.bar i{display:block;height:100%;background:var(--c)}
.pair{display:none;border-top:2px solid #263238;margin-top:24px}
.pair:target,body.all .pair,body.nomap .pair{display:block}
body:not(.nomap):not(.all) .pair:target{position:fixed;z-index:2;top:24px;left:50%;transform:translateX(-50%);width:min(1100px,calc(100% - 48px));max-height:calc(100% - 48px);overflow:auto;margin:0;padding:0 20px 16px;background:#fff;border:none;border-radius:6px;box-shadow:0 10px 40px rgba(0,0,0,.45)}
body:not(.nomap):not(.all):has(.pair:target)::before{content:"";position:fixed;inset:0;z-index:1;background:rgba(38,50,56,.55)}
.close{float:right;margin-top:16px;color:#263238;font-weight:600;text-decoration:none}
body.nomap .close,body.all .close{display:none}
.toolbar{display:flex;gap:8px;align-items:center;margin:16px 0 0}
.toolbar input{padding:4px 8px;font:inherit;width:320px}
button{font:inherit;padding:3px 10px;cursor:pointer}
details{border-bottom:1px solid #eee;padding:2px 0}
summary{cursor:pointer;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
summary::before{content:"";display:inline-block;width:10px;height:10px;margin:0 8px 0 2px;border-radius:50%;background:var(--c)}
pre{margin:6px 0 8px 22px;padding:8px 10px;background:#f7f7f7;border-left:3px solid var(--c);white-space:pre-wrap;font-size:12px}
.note{color:#555;margin:4px 0 8px}
.hidden{display:none}
</style>
</head>
<body{{if not .Heat}} class="nomap"{{end}}>
<header><h1>{{.Title}}</h1>{{with .Subtitle}}<p>{{.}}</p>{{end}}</header>
<main>
{{- if .Legend}}
<div class="legend"><span class="mtls">mTLS</span><span class="tls">TLS (not Istio mTLS)</span><span class="plaintext">plaintext</span><span class="deny">denied</span><span class="undecided">undecided (depends on what meshreach does not model)</span></div>
{{- end}}
{{- with .Heat}}
<h2>Reachability by namespace pair</h2>
<p class="note">Rows are client namespaces, columns destination namespaces. Each cell counts workload pairs × ports as configured; open a cell for every connection and the trace that decided it.</p>
<table class="heat" id="heat">
<tr><th class="corner">from \ to</th>{{range .Namespaces}}<th>{{.}}</th>{{end}}</tr>
{{- range .Rows}}
<tr><th>{{.Namespace}}</th>
{{- range .Cells}}<td style="{{.Style}}" title="{{.Title}}">{{if .ID}}<a href="#{{.ID}}"><span class="total">{{.Total}}</span><span class="counts">{{.Counts}}</span><span class="bar">{{range .Bars}}<i class="{{.Class}}" style="{{.Width}}"></i>{{end}}</span></a>{{else}}<span class="empty">–</span>{{end}}</td>{{end}}
</tr>
{{- end}}
</table>
{{- end}}
{{- range .Tables}}
{{- if .Title}}
<h2>{{.Title}}</h2>{{end}}
<table>
<tr>{{range .Cols}}<th>{{.}}</th>{{end}}</tr>
{{- $t := .}}
{{- range .Rows}}
<tr>{{range $i, $c := .}}<td{{if $t.AlignRight $i}} class="num"{{end}}>{{$c}}</td>{{end}}</tr>
{{- end}}
</table>
{{- end}}
{{- if .Sections}}
<div class="toolbar"><input id="filter" type="search" placeholder="filter, e.g. plaintext or shop/web" aria-label="filter connections">{{if .Heat}}<button id="all" type="button">show every pair</button>{{end}}<button id="open" type="button">open all</button><button id="close" type="button">close all</button></div>
{{- end}}
{{- range .Sections}}
<section class="pair" id="{{.ID}}">
<a class="close" href="#heat">close ✕</a>
<h2>{{.Title}}</h2>
{{- with .Note}}<p class="note">{{.}}</p>{{end}}
{{- range .Items}}
<details class="{{.Class}}"><summary>{{.Summary}}</summary><pre>{{.Detail}}</pre></details>
{{- end}}
</section>
{{- end}}
</main>
<script>
(function(){
  var q=function(s){return Array.prototype.slice.call(document.querySelectorAll(s))};
  var f=document.getElementById("filter");
  if(f){f.addEventListener("input",function(){
    var v=f.value.toLowerCase();
    q("details").forEach(function(d){d.classList.toggle("hidden",v!==""&&d.textContent.toLowerCase().indexOf(v)<0)});
  })}
  var on=function(id,fn){var b=document.getElementById(id);if(b){b.addEventListener("click",fn)}};
  on("all",function(){document.body.classList.toggle("all")});
  on("open",function(){q("details").forEach(function(d){d.open=true})});
  on("close",function(){q("details").forEach(function(d){d.open=false})});
  // Opening a pair from the heat map unfolds its first connection.
  var reveal=function(){
    var id=decodeURIComponent(location.hash.slice(1)),s=id&&document.getElementById(id);
    if(s&&s.classList.contains("pair")){var d=s.querySelector("details");if(d){d.open=true}}
  };
  window.addEventListener("hashchange",reveal);
  reveal();
})();
</script>
</body>
</html>
`))

func writeHTML(w io.Writer, p page) error { return pageTemplate.Execute(w, p) }
