/** `by_filesize`: the pack partitioner, a file tree cut into partitions of about `chunk_size_mb`. */
import { z } from 'zod';
import { listFiles } from './file-tree.ts';
import type { FilesShard } from './by-asset-bucket.ts';
import { listPartitioner } from './partitioner.ts';

const fileSizeConfig = z.object({
  root: z.string().min(1),
  chunk_size_mb: z.number().positive().max(4096).default(8),
  stage_kind: z.string().default(''),
});

/** A size partition: seed 002's `deploy.pack` input, with the files it covers. */
export interface FileRangeShard extends FilesShard {
  partition_id: number;
  file_range_start: number;
  file_range_end: number;
  chunk_size_mb: number;
}

/**
 * `by_filesize`: the files under `root` in path order, cut into consecutive
 * ranges of at most `chunk_size_mb` MiB each (a bigger file is a range of
 * its own): files [file_range_start, file_range_end) per shard.
 */
export const byFileSize = listPartitioner('by_filesize', fileSizeConfig, fileRanges);

function fileRanges({ root, chunk_size_mb, stage_kind }: z.infer<typeof fileSizeConfig>): FileRangeShard[] {
  const files = listFiles(root);
  const limit = chunk_size_mb * 1024 * 1024;
  const out: FileRangeShard[] = [];
  let start = 0;
  let bytes = 0;
  const cut = (end: number): void => {
    const id = out.length;
    out.push({ bucket: `partition-${id}`, chunk_size_mb, file_range_end: end, file_range_start: start, files: files.slice(start, end), partition_id: id, stage_kind });
    [start, bytes] = [end, 0];
  };
  files.forEach((f, i) => {
    if (i > start && bytes + f.size > limit) cut(i);
    bytes += f.size;
  });
  if (start < files.length) cut(files.length);
  return out;
}
