package controllers

import (
	"context"
	"errors"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// patchStatusCase is how the apiserver and mutate behave, and what patchConnectionStatus
// should do about it.
type patchStatusCase struct {
	name       string
	attempts   int
	conflicts  int   // patches that lose the lock before one succeeds
	mutateErr  error // what mutate returns
	unchanged  bool  // mutate changes nothing
	readFails  bool  // reading the latest object fails
	patchFails bool  // the patch fails for another reason than the lock
	wantCalls  int   // calls of mutate
	wantPatch  int   // patches sent
	wantErr    func(error) bool
}

func patchStatusCases() []patchStatusCase {
	return []patchStatusCase{
		{name: "written at once", attempts: lockOnce, wantCalls: 1, wantPatch: 1},
		{name: "a lost lock, once: the conflict is the caller's", attempts: lockOnce, conflicts: 1,
			wantCalls: 1, wantPatch: 1, wantErr: apierrors.IsConflict},
		{name: "lost locks retried on the latest object", attempts: lockRetries, conflicts: lockRetries - 1,
			wantCalls: lockRetries, wantPatch: lockRetries},
		{name: "a lock lost every time: a conflict after the last attempt", attempts: lockRetries, conflicts: lockRetries,
			wantCalls: lockRetries, wantPatch: lockRetries, wantErr: apierrors.IsConflict},
		{name: "nothing changed: nothing written", attempts: lockRetries, unchanged: true, wantCalls: 1},
		{name: "mutate refuses: its error, nothing written", attempts: lockRetries, mutateErr: errBudget,
			wantCalls: 1, wantErr: func(err error) bool { return errors.Is(err, errBudget) }},
		{name: "the latest object cannot be read: nothing written", attempts: lockRetries, readFails: true,
			wantErr: apierrors.IsServiceUnavailable},
		{name: "a patch refused for another reason is not retried", attempts: lockRetries, patchFails: true,
			wantCalls: 1, wantPatch: 1, wantErr: apierrors.IsServiceUnavailable},
	}
}

// TestPatchConnectionStatus: a lost lock is tried again up to the attempts given, on
// the object read again; nothing is written when mutate changes nothing or fails.
func TestPatchConnectionStatus(t *testing.T) {
	for _, tc := range patchStatusCases() {
		t.Run(tc.name, func(t *testing.T) {
			bc := &bankingv1alpha1.BankConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "bank"}}
			patches := 0
			c := statusPatchClient(t, tc, bc, &patches)
			calls := 0
			got, err := patchConnectionStatus(context.Background(), c, c, client.ObjectKeyFromObject(bc), tc.attempts,
				func(latest *bankingv1alpha1.BankConnection) (bool, error) {
					calls++
					if tc.mutateErr != nil || tc.unchanged {
						return false, tc.mutateErr
					}
					latest.Status.Accounts = []bankingv1alpha1.AccountStatus{{ID: "acc-1", Kind: "Account"}}
					return true, nil
				})
			if calls != tc.wantCalls || patches != tc.wantPatch {
				t.Fatalf("mutate called %d times, %d patches; want %d and %d", calls, patches, tc.wantCalls, tc.wantPatch)
			}
			if tc.wantErr != nil {
				if err == nil || !tc.wantErr(err) {
					t.Fatalf("err = %v, want the expected kind", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			stored := &bankingv1alpha1.BankConnection{}
			if err := c.Get(context.Background(), client.ObjectKeyFromObject(bc), stored); err != nil {
				t.Fatal(err)
			}
			if want := len(got.Status.Accounts); len(stored.Status.Accounts) != want || stored.ResourceVersion != got.ResourceVersion {
				t.Fatalf("stored %d accounts at %s, returned %d at %s", len(stored.Status.Accounts), stored.ResourceVersion, want, got.ResourceVersion)
			}
		})
	}
}

// statusPatchClient is an in-memory client holding bc whose reads and status patches
// fail as tc says; it counts the patches sent in patches.
func statusPatchClient(t *testing.T, tc patchStatusCase, bc *bankingv1alpha1.BankConnection, patches *int) client.Client {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := bankingv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(bc).WithStatusSubresource(bc).
		WithInterceptorFuncs(interceptor.Funcs{
			Get: func(ctx context.Context, cl client.WithWatch, key client.ObjectKey, o client.Object, opts ...client.GetOption) error {
				if tc.readFails {
					return apierrors.NewServiceUnavailable("down")
				}
				return cl.Get(ctx, key, o, opts...)
			},
			SubResourcePatch: func(ctx context.Context, cl client.Client, sub string, o client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
				if *patches++; *patches <= tc.conflicts {
					return apierrors.NewConflict(schema.GroupResource{Resource: "bankconnections"}, o.GetName(), errors.New("changed"))
				}
				if tc.patchFails {
					return apierrors.NewServiceUnavailable("down")
				}
				return cl.SubResource(sub).Patch(ctx, o, p, opts...)
			},
		}).Build()
}
