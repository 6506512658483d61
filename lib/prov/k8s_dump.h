/*
 * For the kubernetes driver: the Job that dumps a mongodb instance, the
 * claim it writes to, and what a Job's status says.  Pure functions over
 * json-c trees, like k8s_manifest.h, so that the unit tests can check them.
 *
 * The Job (batch/v1) is named dbtree-dump-<backup id> and runs once
 * (backoffLimit 0) in the instance's namespace, with the instance's image
 * and the pod security of the instance pods:
 *	mongodump --archive=/backup/<backup id>.archive.part --gzip
 * against the instance's Service over TLS (the chain checked against the
 * instance's ca.crt; host names are not, as the certificate names the
 * public host), as dbtree_root.  The password comes from the instance
 * Secret through the environment and reaches mongodump in a 0600 config
 * file under /tmp (the tools' documented alternative to a prompt), never
 * on a command line.  The archive is renamed to <backup id>.archive once
 * complete, so a file by that name is a whole dump.  The claim
 * dbtree-backups (ReadWriteOnce, the first dumped instance's disk size) is
 * shared by every dump of the namespace and is never deleted by dbtree.
 *
 * The Job's pod carries no instance-id label: the instance's Service and
 * NetworkPolicy select pods by that label, and a dump pod must not become
 * an endpoint of the database.
 *
 * The Job gives up after K8S_DUMP_DEADLINE_S and is deleted by the cluster
 * K8S_DUMP_TTL_S after it ended: poll before then.
 */
#ifndef PROV_K8S_DUMP_H
#define PROV_K8S_DUMP_H

#include <stdbool.h>
#include <stddef.h>

#include "prov/prov.h"

struct json_object;
struct k8s_manifest_conf;

#define K8S_BACKUP_CLAIM "dbtree-backups"
#define K8S_BACKUP_DIR "/backup"
#define K8S_LABEL_BACKUP "dbtree.io/backup-id"
#define K8S_DUMP_PREFIX "dbtree-dump-"
#define K8S_BACKUP_ID_MAX 40	/* the Job name stays a DNS label */
#define K8S_DUMP_NAME_MAX (sizeof(K8S_DUMP_PREFIX) + K8S_BACKUP_ID_MAX)
#define K8S_DUMP_DEADLINE_S (6 * 3600)
#define K8S_DUMP_TTL_S (7 * 86400)

/* True when id is 1..K8S_BACKUP_ID_MAX of [a-z0-9-] that neither starts
 * nor ends with '-' (a uuid, or a number, will do). */
bool k8s_dump_id_ok(const char *backup_id);
/* K8S_DUMP_PREFIX + backup_id into out: 0, or -1 when the id is not ok. */
int k8s_dump_name(const char *backup_id, char out[K8S_DUMP_NAME_MAX]);
/* The Job dumping instance s (type mongodb) as backup_id (ok'd). */
struct json_object *k8s_dump_job(const struct k8s_manifest_conf *mc,
				 const struct prov_spec *s,
				 const char *backup_id);
/* The claim K8S_BACKUP_CLAIM, sized as s's disk. */
struct json_object *k8s_dump_claim(const struct k8s_manifest_conf *mc,
				   const struct prov_spec *s);
/* What a Job says: PROV_DUMP_DONE (a Complete condition), PROV_DUMP_FAILED
 * (a Failed condition; reason gets its reason and message) or
 * PROV_DUMP_RUNNING (reason says whether it has started). */
enum prov_dump_state k8s_dump_state(struct json_object *job, char *reason,
				    size_t size);

#include "base/banned.h"
#endif
