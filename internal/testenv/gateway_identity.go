package testenv

import (
	"context"
	"fmt"
	"os"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/consent-operator/consent-operator/internal/repo"
)

// GatewayServiceAccount is the ServiceAccount GatewayConfig creates.
const GatewayServiceAccount = "consent-operator-gateway"

// GatewayConfig returns a client config for the gateway with exactly the rights the
// project ships it with: a ServiceAccount in namespace bound to the generated
// config/rbac/gateway/role.yaml ClusterRole and to the key Role of
// config/rbac/gateway/key_role.yaml, authenticated by a TokenRequest token, as in a
// pod. Tests and make dev run the gateway with it, so a right it lacks fails them.
func GatewayConfig(ctx context.Context, admin *rest.Config, c client.Client, namespace string) (*rest.Config, error) {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: GatewayServiceAccount}}
	if err := c.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("creating the gateway's ServiceAccount: %w", err)
	}
	subject := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: sa.Name}}
	role := &rbacv1.ClusterRole{}
	if err := readManifest("config/rbac/gateway/role.yaml", role); err != nil {
		return nil, err
	}
	role.Name = GatewayServiceAccount
	// The key Role file holds the Role and its binding; only the Role's rules are taken.
	keyRole := &rbacv1.Role{}
	if err := readManifest("config/rbac/gateway/key_role.yaml", keyRole); err != nil {
		return nil, err
	}
	keyRole.ObjectMeta = metav1.ObjectMeta{Namespace: namespace, Name: GatewayServiceAccount + "-key"}
	objs := []client.Object{
		role,
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: GatewayServiceAccount}, Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name}},
		keyRole,
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: keyRole.Name}, Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: keyRole.Name}},
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("creating the gateway's %T: %w", o, err)
		}
	}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](24 * 3600)}}
	if err := c.SubResource("token").Create(ctx, sa, tr); err != nil {
		return nil, fmt.Errorf("requesting the gateway's token: %w", err)
	}
	cfg := rest.AnonymousClientConfig(admin)
	cfg.BearerToken = tr.Status.Token
	return cfg, nil
}

// readManifest decodes the first object of a repository manifest into into.
func readManifest(path string, into any) error {
	objs, err := readRepoFile(path)
	if err != nil {
		return err
	}
	docs, err := DecodeObjects(string(objs))
	if err != nil || len(docs) == 0 {
		return fmt.Errorf("%s: no object (%v)", path, err)
	}
	data, err := docs[0].MarshalJSON()
	if err != nil {
		return err
	}
	return yaml.Unmarshal(data, into)
}

func readRepoFile(path string) ([]byte, error) {
	p, err := repo.Path(path)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return data, nil
}
