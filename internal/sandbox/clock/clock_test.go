package clock

import (
	"sync"
	"testing"
	"time"
)

func TestManual(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewManual(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now = %v, want %v", got, start)
	}
	c.Advance(90 * 24 * time.Hour)
	if got, want := c.Now(), start.AddDate(0, 0, 90); !got.Equal(want) {
		t.Fatalf("after Advance Now = %v, want %v", got, want)
	}
	c.Set(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("after Set Now = %v, want %v", got, start)
	}
}

func TestManualConcurrent(t *testing.T) {
	c := NewManual(time.Unix(0, 0))
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 1000; j++ {
				c.Advance(time.Second)
				_ = c.Now()
			}
		}()
	}
	wg.Wait()
	if got, want := c.Now(), time.Unix(8000, 0); !got.Equal(want) {
		t.Fatalf("Now = %v, want %v", got, want)
	}
}

func TestOffset(t *testing.T) {
	wall := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	o := &Offset{wall: func() time.Time { return wall }}
	if got := o.Now(); !got.Equal(wall) {
		t.Fatalf("Now = %v, want %v", got, wall)
	}
	o.Advance(48 * time.Hour)
	if got, want := o.Now(), wall.Add(48*time.Hour); !got.Equal(want) {
		t.Fatalf("after Advance Now = %v, want %v", got, want)
	}
	target := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	o.Set(target)
	if got := o.Now(); !got.Equal(target) {
		t.Fatalf("after Set Now = %v, want %v", got, target)
	}
	wall = wall.Add(time.Minute) // the wall clock moves on; so does Offset
	if got, want := o.Now(), target.Add(time.Minute); !got.Equal(want) {
		t.Fatalf("after wall tick Now = %v, want %v", got, want)
	}
}
