package web

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"strconv"

	"github.com/btcstake/btcstake/watch"
)

// styleText is the page's only style, inline; the content security
// policy allows exactly it, by hash.
const styleText = `
body{font:15px/1.4 system-ui,sans-serif;margin:0;padding:12px;color:#111;background:#fafafa}
h1{font-size:1.3em;margin:0 0 8px}
.progress,.counts{display:flex;flex-wrap:wrap;gap:6px 18px;margin:0 0 10px;padding:0;list-style:none}
.ok{color:#075e07}.behind{color:#9a5b00}.error{color:#a00;font-weight:bold}
.note{color:#555;font-size:.9em}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#eee;font-size:.85em}
code{font:12px ui-monospace,monospace;word-break:break-all}
@media (max-width:760px){
table,thead,tbody,tr,th,td{display:block}
thead{display:none}
tr{margin:0 0 10px;border:1px solid #ccc}
td{border:0;border-bottom:1px solid #eee}
td:empty{display:none}
td::before{content:attr(data-label);display:block;font-size:.75em;color:#666}
}
`

// pageStyle is styleText as the template inserts it unchanged.
var pageStyle = template.CSS(styleText)

// contentSecurityPolicy allows nothing but the inline style above.
var contentSecurityPolicy = func() string {
	sum := sha256.Sum256([]byte(styleText))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}()

// pageData is what the template shows.
type pageData struct {
	Style    template.CSS
	Progress watch.Progress
	Error    string
	Counts   []stateCount
	Total    int
	Rows     []row
}

// Shown is how many rows the page lists.
func (d pageData) Shown() int { return len(d.Rows) }

// Lag is how many blocks the follower is behind the tip.
func (d pageData) Lag() int64 { return max(0, d.Progress.Tip-d.Progress.Height) }

// row is one stake as the table shows it.
type row struct {
	watch.StakeView
	BTC       string
	Timelock  string
	AutoSlash string
}

func newRow(s watch.StakeView) row {
	r := row{StakeView: s, BTC: FormatBTC(s.ValueSat), AutoSlash: "no"}
	switch {
	case s.WithdrawableAt == 0:
		r.Timelock = ""
	case s.BlocksLeft == 1:
		r.Timelock = "1 block (withdrawable at " + strconv.FormatInt(s.WithdrawableAt, 10) + ")"
	case s.BlocksLeft > 1:
		r.Timelock = strconv.FormatInt(s.BlocksLeft, 10) + " blocks (withdrawable at " + strconv.FormatInt(s.WithdrawableAt, 10) + ")"
	default:
		r.Timelock = "withdrawable since " + strconv.FormatInt(s.WithdrawableAt, 10)
	}
	if s.CanAutoSlash {
		r.AutoSlash = "yes"
	}
	return r
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="30">
<title>btcstake watch</title>
<style>{{.Style}}</style>
</head>
<body>
<h1>btcstake watch</h1>
<ul class="progress">
<li>height <b>{{.Progress.Height}}</b></li>
<li>tip <b>{{.Progress.Tip}}</b></li>
{{if .Progress.CaughtUp}}<li class="ok">caught up</li>{{else}}<li class="behind">{{.Lag}} blocks behind</li>{{end}}
{{with .Progress.BlockHash}}<li>block <code>{{.}}</code></li>{{end}}
</ul>
{{with .Error}}<p class="error">{{.}}</p>{{end}}
<ul class="counts">
<li><b>{{.Total}}</b> stakes</li>
{{range .Counts}}<li>{{.State}}: <b>{{.Count}}</b></li>
{{end}}</ul>
{{if lt .Shown .Total}}<p class="note">Showing the first {{.Shown}} of {{.Total}} stakes; all of them are at <a href="/api/stakes">/api/stakes</a>.</p>{{end}}
{{if .Rows}}<table>
<thead><tr><th>Delegation</th><th>State</th><th>Amount (BTC)</th><th>Staking txid</th><th>Live output</th><th>Time lock</th><th>Unbonding txid</th><th>Slashing txid</th><th>Withdraw txid</th><th>Auto-slash</th></tr></thead>
<tbody>
{{range .Rows}}<tr>
<td data-label="Delegation"><code>{{.Delegation}}</code></td>
<td data-label="State">{{.State}}</td>
<td data-label="Amount (BTC)">{{.BTC}}</td>
<td data-label="Staking txid"><code>{{.StakingTxid}}</code>{{with .StakingHeight}} at {{.}}{{end}}</td>
<td data-label="Live output">{{with .Live}}<code>{{.}}</code>{{end}}{{with .LiveKind}} ({{.}}){{end}}</td>
<td data-label="Time lock">{{.Timelock}}</td>
<td data-label="Unbonding txid">{{with .UnbondingTxid}}<code>{{.}}</code>{{end}}</td>
<td data-label="Slashing txid">{{with .SlashingTxid}}<code>{{.}}</code>{{end}}</td>
<td data-label="Withdraw txid">{{with .WithdrawTxid}}<code>{{.}}</code>{{end}}</td>
<td data-label="Auto-slash">{{.AutoSlash}}</td>
</tr>
{{end}}</tbody>
</table>{{else}}<p class="note">No stakes are watched.</p>{{end}}
</body>
</html>
`))
