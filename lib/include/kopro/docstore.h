/*
 * kopro/docstore.h — where produced documents are kept: a directory given as
 * a file:// URL or a plain path (KOPRO_DOCUMENT_STORE; default
 * ./var/documents), with KoproGo's layout `{org}/{building}/pv/{name}`.
 * Files are written atomically (kopro/fs.h): a reader never sees half a PDF.
 */
#ifndef KOPRO_DOCSTORE_H
#define KOPRO_DOCSTORE_H

#include <stddef.h>

#define KOPRO_DOCSTORE_DEFAULT "./var/documents"

/*
 * Store `data` under `store` at the relative path `relpath` (e.g.
 * "ORG/BUILDING/pv/MEETING-fr.pdf"), creating directories (0750), file mode
 * 0640. `store` NULL or "" means KOPRO_DOCSTORE_DEFAULT; "file:///abs/dir"
 * and "/abs/dir" or "rel/dir" are accepted. *out_path receives the absolute
 * path of the stored file (caller frees).
 * Returns 0; KOPRO_EINVAL for another URL scheme or a relpath holding ".."
 * or starting with '/'; KOPRO_ERROR for a file-system failure (message names
 * the path).
 * Thread-safety: reentrant.
 */
int kopro_docstore_put(char **out_path, const char *store, const char *relpath, const void *data,
                       size_t data_bytes);

#endif
