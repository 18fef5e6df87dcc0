package report

import (
	"time"

	"github.com/switchboard-gw/switchboard/bench/harness"
	"github.com/switchboard-gw/switchboard/bench/scenario"
)

// Results is everything one run measured.
type Results struct {
	Command           string
	Quick             bool
	Started, Finished time.Time
	Machine           harness.Machine
	LoadAfter         string
	Sizes             scenario.Sizes
	Durations         []Duration
	Errors            []string

	Propagation []scenario.PropagationRow
	Churn       *scenario.ChurnResult
	Failover    []scenario.FailoverRow
	Overhead    []scenario.OverheadCell
	Plugins     *scenario.PluginsResult
	HTTPS       *scenario.HTTPSResult
	Scale       *scenario.ScaleResult
	Admin       []scenario.AdminRow
	Declarative *scenario.DeclarativeResult
}

// Duration is how long one scenario took.
type Duration struct {
	Name string
	D    time.Duration
}
