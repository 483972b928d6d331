// job_shelves.h — jobs/ and archive/ as two shelves a job moves between with
// mv, and the ctl file in every job's directory.
//
//   mv jobs/<id> archive/      archive: the job leaves jobs/ and
//                              projects/<p>/jobs/, and keeps all its files
//                              (archive/<id>/ has the same ones)
//   mv archive/<id> jobs/      and back
//
// Anything else is refused with ENOTSUP, which mv prints as "cannot move
// 'jobs/a' to 'jobs/b': Operation not supported" (EINVAL would read "to a
// subdirectory of itself", and EXDEV would make mv fall back to copying and
// deleting): renaming a job (mv jobs/a jobs/b, mv jobs/a archive/b), moving
// a job anywhere but the other shelf. The explanation is
// kept by the JobController and shown in the job's ctl (see job_ctl_file.h).
// Other directories moving things into a shelf get their own refusal
// (EROFS, or EXDEV from new/, whose copy then fails with EROFS).
//
// The jobs shelf is the directory of jobs_tree.h made with the controller
// (so each job's directory has ctl), plus the mv; the archive shelf lists
// the controller's archived jobs with the same files, keeping one directory
// per archived job as the jobs tree keeps its own: a listing or lookup
// allocates nothing for a known job.
//
// Thread rules: as the nodes they wrap; a shelf's own mutex guards only its
// kept directories; the controller and the wrapped listing are called with
// no lock held.
#pragma once

#include <memory>

#include "common/clock.h"
#include "fs/job_ctl_file.h"
#include "fs/jobs_tree.h"
#include "fs/node.h"

namespace mmcfs::fs {

// jobs/: the jobs tree (make_jobs_dir, with ctl in every job's directory)
// plus mv to archive/.
std::shared_ptr<DirNode> make_jobs_shelf(JobSource& source, JobController& controller, WallTime mounted_at);
// archive/: the archived jobs.
std::shared_ptr<DirNode> make_archive_shelf(JobSource& source, JobController& controller, WallTime mounted_at);

}  // namespace mmcfs::fs
