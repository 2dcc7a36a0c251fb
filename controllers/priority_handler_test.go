package controllers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// priorityTestConnection is a connection in ns/name, reconciled once (observed
// generation 1) unless reconciled is false, whose user is in the middle of a handoff
// when code is set.
func priorityTestConnection(reconciled bool, code string) *bankingv1alpha1.BankConnection {
	bc := &bankingv1alpha1.BankConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "name"}}
	if reconciled {
		bc.Status.ObservedGeneration = 1
	}
	if code != "" {
		bc.Status.Handoff = &bankingv1alpha1.HandoffStatus{Nonce: "nonce-" + code, Code: code}
	}
	return bc
}

// TestPriorityHandler drives the handler with the events the informer delivers and
// reads back, from a real priority queue, what it enqueued and at which priority.
func TestPriorityHandler(t *testing.T) {
	none := -1 // nothing enqueued
	cases := []struct {
		name string
		feed func(h priorityHandler, q priorityqueue.PriorityQueue[reconcile.Request])
		want int
	}{
		{name: "initial list, never reconciled", want: 0, feed: func(h priorityHandler, q priorityqueue.PriorityQueue[reconcile.Request]) {
			h.Create(t.Context(), event.TypedCreateEvent[client.Object]{Object: priorityTestConnection(false, ""), IsInInitialList: true}, q)
		}},
		{name: "initial list, user waits", want: userPresentPriority, feed: func(h priorityHandler, q priorityqueue.PriorityQueue[reconcile.Request]) {
			h.Create(t.Context(), event.TypedCreateEvent[client.Object]{Object: priorityTestConnection(true, "code"), IsInInitialList: true}, q)
		}},
		{name: "initial list, nobody waits", want: none, feed: func(h priorityHandler, q priorityqueue.PriorityQueue[reconcile.Request]) {
			h.Create(t.Context(), event.TypedCreateEvent[client.Object]{Object: priorityTestConnection(true, ""), IsInInitialList: true}, q)
		}},
		{name: "created after the initial list", want: none, feed: func(h priorityHandler, q priorityqueue.PriorityQueue[reconcile.Request]) {
			h.Create(t.Context(), event.TypedCreateEvent[client.Object]{Object: priorityTestConnection(false, "")}, q)
		}},
		{name: "create of another kind", want: none, feed: func(h priorityHandler, q priorityqueue.PriorityQueue[reconcile.Request]) {
			h.Create(t.Context(), event.TypedCreateEvent[client.Object]{Object: &corev1.Secret{}, IsInInitialList: true}, q)
		}},
		{name: "new handoff", want: userPresentPriority, feed: func(h priorityHandler, q priorityqueue.PriorityQueue[reconcile.Request]) {
			h.Update(t.Context(), event.TypedUpdateEvent[client.Object]{ObjectOld: priorityTestConnection(true, ""), ObjectNew: priorityTestConnection(true, "code")}, q)
		}},
		{name: "same handoff", want: none, feed: func(h priorityHandler, q priorityqueue.PriorityQueue[reconcile.Request]) {
			h.Update(t.Context(), event.TypedUpdateEvent[client.Object]{ObjectOld: priorityTestConnection(true, "code"), ObjectNew: priorityTestConnection(true, "code")}, q)
		}},
		{name: "handoff gone", want: none, feed: func(h priorityHandler, q priorityqueue.PriorityQueue[reconcile.Request]) {
			h.Update(t.Context(), event.TypedUpdateEvent[client.Object]{ObjectOld: priorityTestConnection(true, "code"), ObjectNew: priorityTestConnection(true, "")}, q)
		}},
		{name: "update of another kind", want: none, feed: func(h priorityHandler, q priorityqueue.PriorityQueue[reconcile.Request]) {
			h.Update(t.Context(), event.TypedUpdateEvent[client.Object]{ObjectOld: &corev1.Secret{}, ObjectNew: priorityTestConnection(true, "code")}, q)
		}},
		{name: "delete and generic", want: none, feed: func(h priorityHandler, q priorityqueue.PriorityQueue[reconcile.Request]) {
			h.Delete(t.Context(), event.TypedDeleteEvent[client.Object]{Object: priorityTestConnection(true, "code")}, q)
			h.Generic(t.Context(), event.TypedGenericEvent[client.Object]{Object: priorityTestConnection(true, "code")}, q)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := priorityqueue.New[reconcile.Request]("priority-handler-test")
			defer q.ShutDown()
			tc.feed(priorityHandler{}, q)
			if tc.want == none {
				if q.Len() != 0 {
					t.Fatalf("enqueued %d requests, want none", q.Len())
				}
				return
			}
			if q.Len() != 1 {
				t.Fatalf("enqueued %d requests, want 1", q.Len())
			}
			req, priority, _ := q.GetWithPriority()
			if req.Namespace != "ns" || req.Name != "name" || priority != tc.want {
				t.Fatalf("enqueued %v at priority %d, want ns/name at %d", req, priority, tc.want)
			}
		})
	}
}

// TestAddWithPriorityPlainQueue: a queue without priorities (controller-runtime's
// before the priority queue is on) still gets the request.
func TestAddWithPriorityPlainQueue(t *testing.T) {
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	addWithPriority(q, priorityTestConnection(true, "code"), userPresentPriority)
	if q.Len() != 1 {
		t.Fatalf("enqueued %d requests, want 1", q.Len())
	}
}
