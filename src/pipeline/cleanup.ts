/** What the post step must undo after the main step; saved as post-step state, never a secret. */
export interface CleanupState {
  /** The registry the main step logged in to */
  logout?: string
  /** The builder the main step created (driver docker-container) */
  builder?: string
  /** Containers of this run are named rma-<runTag>-... */
  runTag?: string
  /** The run's temporary folder */
  tempDir?: string
  /** Local tags this run made (loaded images, arch and staging tags) */
  images?: string[]
}
