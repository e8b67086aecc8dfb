package controller

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// conflictRetry is how long a reconcile that lost a write to another writer waits before it
// looks again, should the watch not bring the object back first.
const conflictRetry = time.Second

// settle turns the error of a reconcile into its result. A conflict is expected: another writer (a
// second replica, or this one through a cache that has not yet seen its own last write) was first,
// or the cached copy was older than the API server's. The reconcile is retried and the conflict
// logged at debug level: an error is what a person must look at.
func settle(ctx context.Context, result ctrl.Result, err error) (ctrl.Result, error) {
	if apierrors.IsConflict(err) {
		log.FromContext(ctx).V(1).Info("retrying after a conflict", "conflict", err.Error())
		return ctrl.Result{RequeueAfter: conflictRetry}, nil
	}
	return result, err
}
