// Package schedule decides when a SyncJob runs: cron expressions (robfig/cron, five
// fields or descriptors like @hourly and @every 6h) read in a time zone, or a single
// run when there is no schedule. Missed slots are not replayed: after downtime the job
// runs once for the latest missed slot, like a CronJob that forbids concurrency.
package schedule

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Schedule is a parsed spec.schedule in its time zone.
type Schedule struct {
	sched cron.Schedule
	loc   *time.Location
}

// Parse reads a cron expression and an IANA time zone ("" means UTC).
func Parse(expr, timeZone string) (*Schedule, error) {
	loc := time.UTC
	if timeZone != "" {
		l, err := time.LoadLocation(timeZone)
		if err != nil {
			return nil, fmt.Errorf("time zone %q: %w", timeZone, err)
		}
		loc = l
	}
	s, err := parser.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", expr, err)
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
