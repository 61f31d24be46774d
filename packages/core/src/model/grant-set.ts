// GrantSet: a set of grants kept in normalised form, indexed by a path tree per scope so that adding a
// grant and finding what covers a path cost about the depth of the path (grants.ts has the model).
import type { Scope } from './types.js';
import { coversGrant } from './paths/index.js';
import { absorbCovered, BOOLEAN_ORDER, compareGrants, copyGrant, covers, grantKey, mergeInto, normaliseGrants, reachingPaths, type Grant } from './grants.js';

/**
 * One node of a scope's path tree: the path made of the segments (split on `/`) from the root to it.
 * Every string is one node (`/x` is '' then 'x', `/x/` is '' then 'x' then '', `` is ''); the root
 * itself is no path. A node keeps the grants on its path and how many grants its subtree holds, so
 * "every grant whose path starts with `/x/`" is the subtree of `/x` less `/x` itself.
 */
interface PathNode {
  grants: Grant[] | undefined;
  children: Map<string, PathNode> | undefined;
  /** Grants on this node's path and on every path below it. */
  count: number;
}

const newNode = (): PathNode => ({ grants: undefined, children: undefined, count: 0 });

/** Add `n` to `nodes` if it holds grants and is not there yet. */
function takeNode(nodes: PathNode[], n: PathNode | undefined): void {
  if (n?.grants !== undefined && !nodes.includes(n)) nodes.push(n);
}
const own = (n: PathNode | undefined): number => n?.grants?.length ?? 0;

/** The node of `p` below `root`, or undefined when no grant was ever on it or below it. */
function findNode(root: PathNode, p: string): PathNode | undefined {
  let node: PathNode | undefined = root;
  let from = 0;
  for (;;) {
    const slash = p.indexOf('/', from);
    node = node.children?.get(slash === -1 ? p.slice(from) : p.slice(from, slash));
    if (node === undefined || slash === -1) return node;
    from = slash + 1;
  }
}

/** Every grant on `node` and below it (without `node`'s own when `withOwn` is false). */
function subtreeGrants(node: PathNode | undefined, withOwn: boolean, out: Grant[] = []): Grant[] {
  if (node === undefined || node.count === 0) return out;
  if (withOwn && node.grants) for (const g of node.grants) out.push(g);
  if (node.children) for (const child of node.children.values()) subtreeGrants(child, true, out);
  return out;
}

/** `p` less one trailing slash: the node whose subtree (less itself) is every path starting with `p/`. */
const folderOf = (p: string) => (p.endsWith('/') ? p.slice(0, -1) : p);

/**
 * A set of grants kept in the form normaliseGrants gives (one per key, none covered by another), with
 * indexes so that adding a grant and finding the grant that covers a path cost about the depth of the
 * path rather than the size of the set. `add` and `replace` leave the set exactly as normaliseGrants
 * would leave the list with the grant appended; grants are ordered as normaliseGrants sorts them, ties
 * in the order they came. The set holds its own copies: what is given to it is not changed.
 *
 * `GrantSet.view(list)` indexes a list as it is (not normalised, not copied), in list order, for
 * lookups only; it is indexed when first asked, so a view nobody asks costs nothing.
 */
export class GrantSet {
  private readonly byKey = new Map<string, Grant>();
  /** Per fs scope, the path tree of its grants. */
  private readonly trees = new Map<Scope, PathNode>();
  /** Per scope, the grants without a path (boolean scopes). */
  private readonly unpathed = new Map<Scope, Grant[]>();
  private readonly prefixLengths = new Map<Scope, Map<number, number>>();
  private readonly seq = new Map<Grant, number>();
  private counter = 0;
  /** A view's list, until it is first asked. */
  private unindexed: readonly Grant[] | undefined;

  constructor(
    grants: readonly Grant[] = [],
    private readonly sorted = true,
  ) {
    if (sorted) for (const g of normaliseGrants(grants)) this.insert(g, grantKey(g));
    else this.unindexed = grants;
  }

  /** An index over `grants` as they are, in their order: for lookups only. */
  static view(grants: readonly Grant[]): GrantSet {
    return new GrantSet(grants, false);
  }

  /** Index a view's list on its first use. */
  private get ready(): this {
    const list = this.unindexed;
    if (list !== undefined) {
      this.unindexed = undefined;
      for (const g of list) this.insert(g, undefined);
    }
    return this;
  }

  get size(): number {
    return this.ready.seq.size;
  }

  has(g: Grant): boolean {
    return this.ready.seq.has(g);
  }

  /** The grants, in normaliseGrants order (the set's own objects). */
  toArray(): Grant[] {
    return this.sort([...this.ready.seq.keys()]);
  }

  /** The first grant that allows `target` in `scope` (no target: a boolean scope). */
  covering(scope: Scope, target?: string): Grant | undefined {
    if (target === undefined) return this.first(this.ready.unpathed.get(scope) ?? [], (g) => covers(g, scope, target));
    // The commonest question of all: answered from the nodes without collecting or sorting their grants.
    let best: Grant | undefined;
    for (const n of this.reachingNodes(scope, target)) {
      for (const g of n.grants!) if (covers(g, scope, target) && (best === undefined || this.compare(g, best) < 0)) best = g;
    }
    return best;
  }

  /** Grants of `scope` on `p`, on a folder above it, or on a prefix of it: every grant that could
   *  reach `p` or lie above it, in order. Filter them for what is wanted. */
  reaching(scope: Scope, p: string): Grant[] {
    const found: Grant[] = [];
    for (const n of this.reachingNodes(scope, p)) for (const g of n.grants!) found.push(g);
    return this.sort(found);
  }

  /** The nodes holding grants on the paths reachingPaths lists for `p` (`p`, each folder above it
   *  with and without its trailing slash, the prefixes of the lengths in use), each once, found in
   *  one walk down the tree. */
  private reachingNodes(scope: Scope, p: string): PathNode[] {
    const nodes: PathNode[] = [];
    const root = this.ready.trees.get(scope);
    if (root === undefined) return nodes;
    let node: PathNode | undefined = root;
    let from = 0;
    for (;;) {
      const slash = p.indexOf('/', from);
      node = node.children?.get(slash === -1 ? p.slice(from) : p.slice(from, slash));
      if (node === undefined) break;
      if (slash === -1) {
        takeNode(nodes, node);
        break;
      }
      if (slash > 0) takeNode(nodes, node); // `` (before a leading slash) is no folder
      takeNode(nodes, node.children?.get(''));
      from = slash + 1;
    }
    const lengths = this.prefixLengths.get(scope);
    if (lengths) for (const n of lengths.keys()) if (n < p.length) takeNode(nodes, findNode(root, p.slice(0, n)));
    return nodes;
  }

  /** Grants of `scope` whose path starts with `p` (on any boundary), in order. */
  startingWith(scope: Scope, p: string): Grant[] {
    const root = this.ready.trees.get(scope);
    if (root === undefined) return [];
    const slash = p.lastIndexOf('/');
    let pool: Grant[];
    if (slash === -1) {
      pool = subtreeGrants(root, false);
    } else {
      // Below the folder `p` ends in, the children whose name starts with the rest of `p`.
      const folder = findNode(root, p.slice(0, slash));
      const rest = p.slice(slash + 1);
      pool = [];
      for (const [name, child] of folder?.children ?? []) if (name.startsWith(rest)) subtreeGrants(child, true, pool);
    }
    return this.sort(pool.filter((g) => g.path!.startsWith(p)));
  }

  /** The grants of boolean scopes (child, worker …), in order. */
  capabilities(): Grant[] {
    return this.sort(BOOLEAN_ORDER.flatMap((scope) => this.ready.unpathed.get(scope) ?? []));
  }

  /** Is there a grant of `scope` strictly below the folder `dir`? */
  hasBelow(scope: Scope, dir: string): boolean {
    const root = this.ready.trees.get(scope);
    const folder = root && findNode(root, folderOf(dir));
    if (folder === undefined) return false;
    // Every path starting with `dir/`, less `dir` itself when it is one of them (it ends in a slash).
    const onDir = dir.endsWith('/') ? own(folder.children?.get('')) : 0;
    return folder.count - own(folder) - onDir > 0;
  }

  /** Add a grant, as normaliseGrants([...this, g]) would: merged into the grant with its key or the
   *  first grant that covers it, or added with the evidence of every grant it covers. */
  add(grant: Grant): void {
    this.writable();
    const g = copyGrant(grant);
    const key = grantKey(g);
    const same = this.byKey.get(key);
    if (same) return mergeInto(same, g);
    if (g.path !== undefined) {
      const cover = this.first(this.reaching(g.scope, g.path), (o) => coversGrant(o, g));
      if (cover) return absorbCovered(cover, g);
      for (const o of this.coveredBy(g)) {
        absorbCovered(g, o);
        this.remove(o);
      }
    }
    this.insert(g, key);
  }

  /** Take `old` (one of the set's grants) out and add `grant`. */
  replace(old: Grant, grant: Grant): void {
    this.remove(old);
    this.add(grant);
  }

  remove(g: Grant): void {
    this.writable();
    if (!this.seq.delete(g)) return;
    const key = grantKey(g);
    if (this.byKey.get(key) === g) this.byKey.delete(key);
    if (g.path === undefined) {
      const list = this.unpathed.get(g.scope)!.filter((o) => o !== g);
      if (list.length) this.unpathed.set(g.scope, list);
      else this.unpathed.delete(g.scope);
      return;
    }
    // Down the tree to the grant's node, one fewer in every subtree on the way; empty nodes are cut off.
    let node = this.trees.get(g.scope)!;
    node.count--;
    let from = 0;
    for (;;) {
      const slash = g.path.indexOf('/', from);
      const name = slash === -1 ? g.path.slice(from) : g.path.slice(from, slash);
      const child = node.children!.get(name)!;
      if (--child.count === 0) {
        node.children!.delete(name);
        break;
      }
      node = child;
      if (slash === -1) {
        const list = node.grants!.filter((o) => o !== g);
        node.grants = list.length ? list : undefined;
        break;
      }
      from = slash + 1;
    }
    if (g.kind === 'prefix') {
      const lengths = this.prefixLengths.get(g.scope)!;
      const n = lengths.get(g.path.length)! - 1;
      if (n === 0) lengths.delete(g.path.length);
      else lengths.set(g.path.length, n);
    }
  }

  /** A view is for lookups: it does not keep the form normaliseGrants gives, so it takes no changes. */
  private writable(): void {
    if (!this.sorted) throw new Error('GrantSet.view() is for lookups only');
  }

  /** `key`: the grant's key, for a set that merges by key (a view does not). */
  private insert(g: Grant, key: string | undefined): void {
    this.seq.set(g, this.counter++);
    if (key !== undefined && !this.byKey.has(key)) this.byKey.set(key, g);
    if (g.path === undefined) {
      const list = this.unpathed.get(g.scope);
      if (list) list.push(g);
      else this.unpathed.set(g.scope, [g]);
      return;
    }
    let node = this.trees.get(g.scope);
    if (node === undefined) this.trees.set(g.scope, (node = newNode()));
    node.count++;
    let from = 0;
    for (;;) {
      const slash = g.path.indexOf('/', from);
      const name = slash === -1 ? g.path.slice(from) : g.path.slice(from, slash);
      node.children ??= new Map();
      let child = node.children.get(name);
      if (child === undefined) node.children.set(name, (child = newNode()));
      child.count++;
      node = child;
      if (slash === -1) break;
      from = slash + 1;
    }
    (node.grants ??= []).push(g);
    if (g.kind === 'prefix') {
      let lengths = this.prefixLengths.get(g.scope);
      if (lengths === undefined) this.prefixLengths.set(g.scope, (lengths = new Map()));
      lengths.set(g.path.length, (lengths.get(g.path.length) ?? 0) + 1);
    }
  }

  /** The grants of the set that `g` (not in it) covers, in order. */
  private coveredBy(g: Grant): Grant[] {
    const p = g.path!;
    const kind = g.kind;
    const root = this.trees.get(g.scope);
    let pool: Grant[];
    if (root === undefined) {
      pool = [];
    } else if (kind === 'dir' || kind === 'created-dir') {
      // The grants on `p` and on every path starting with `p/` (`p` itself is one of those when it ends in a slash).
      pool = subtreeGrants(findNode(root, folderOf(p)), !p.endsWith('/'));
    } else if (kind === 'prefix') {
      pool = this.startingWith(g.scope, p);
    } else {
      pool = [...(findNode(root, p)?.grants ?? [])];
    }
    return this.sort(pool.filter((o) => coversGrant(g, o)));
  }

  private first(list: readonly Grant[], test: (g: Grant) => boolean): Grant | undefined {
    let best: Grant | undefined;
    for (const g of list) if (test(g) && (best === undefined || this.compare(g, best) < 0)) best = g;
    return best;
  }

  private sort(list: Grant[]): Grant[] {
    return list.length > 1 ? list.sort((a, b) => this.compare(a, b)) : list;
  }

  private compare(a: Grant, b: Grant): number {
    return (this.sorted ? compareGrants(a, b) : 0) || this.seq.get(a)! - this.seq.get(b)!;
  }
}
