/**
 * Drafts of blueprints: saved in revisions, validated into report artifacts,
 * promoted to frozen versions. A store-backed service; routes and commands
 * call it and map its errors (codes `not_found`, `conflict`, VALIDATION).
 */
export { DraftBook, MAX_DEFINITION_BYTES, type PromotedBlueprint, type SaveInput, type Saved, type Validated } from './book.ts';
export { BlueprintNotFoundError, ConflictError, DraftNotFoundError } from './errors.ts';
export type { BlueprintHead, BlueprintVersion, DraftRecord, DraftRevision, Page, PageQuery, ValidationReport } from './records.ts';
