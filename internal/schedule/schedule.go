// Package schedule decides when a SyncJob runs: cron expressions (robfig/cron, five
// fields or descriptors like @hourly and @every 6h) read in a time zone, or a single
// run when there is no schedule. Missed slots are not replayed: after downtime the job
// runs once for the latest missed slot, like a CronJob that forbids concurrency.
package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Schedule is a parsed spec.schedule in its time zone.
type Schedule struct {
	sched cron.Schedule
	loc   *time.Location
}

// Parse reads a cron expression and an IANA time zone ("" means UTC). It reports the
// problems of both at once, so that one edit of the spec can mend them all.
func Parse(expr, timeZone string) (*Schedule, error) {
	var problems []string
	loc := time.UTC
	switch timeZone {
	case "":
	case "Local": // the manager's own zone: not something a manifest can mean
		problems = append(problems, `spec.timeZone "Local" is not an IANA time zone name`)
	default:
		l, err := time.LoadLocation(timeZone)
		if err != nil {
			problems = append(problems, fmt.Sprintf("spec.timeZone %q is not a known IANA time zone", timeZone))
		}
		loc = l
	}
	s, err := parser.Parse(expr)
	if err != nil {
		problems = append([]string{fmt.Sprintf("spec.schedule %q: %v", expr, err)}, problems...)
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return &Schedule{sched: s, loc: loc}, nil
}

// Next is the first slot strictly after t.
func (s *Schedule) Next(t time.Time) time.Time { return s.sched.Next(t.In(s.loc)).UTC() }

// Decision says whether a run is due now and when the next one is.
type Decision struct {
	// Due is true when a slot has passed since the last run.
	Due bool
	// Slot is the (latest) slot the run is for.
	Slot time.Time
	// Next is the first slot after now.
	Next time.Time
}

// Decide looks for slots after last (the last run's slot, or the job's creation) up
// to now. Only the latest missed slot is reported.
func (s *Schedule) Decide(last, now time.Time) Decision {
	d := Decision{Next: s.Next(now)}
	for t := s.Next(last); !t.After(now); t = s.Next(t) {
		d.Due, d.Slot = true, t
	}
	return d
}
