/** `by_asset_bucket`: the assets partitioner, one shard per top directory's files. */
import { z } from 'zod';
import { listFiles, topDirectories, type FileEntry } from './file-tree.ts';
import { listPartitioner } from './partitioner.ts';

const assetBucketConfig = z.object({ root: z.string().min(1), stage_kind: z.string().default('') });

/** An assets shard: a bucket's files (or a size partition's, under `by_filesize`). */
export interface FilesShard {
  bucket: string;
  files: FileEntry[];
  stage_kind: string;
}

/**
 * `by_asset_bucket`: one shard per asset category — each top-level directory
 * of `root` that holds files — with the files under it.
 */
export const byAssetBucket = listPartitioner('by_asset_bucket', assetBucketConfig, assetBuckets);

function assetBuckets({ root, stage_kind }: z.infer<typeof assetBucketConfig>): FilesShard[] {
  return topDirectories(root)
    .map((bucket) => ({ bucket, files: listFiles(root, bucket), stage_kind }))
    .filter((s) => s.files.length > 0);
}
