export declare const majors: readonly number[];
export declare const latestMajors: readonly number[];
export declare function nodeBinary(major: number, which?: 'pinned' | 'latest'): string;
export declare function nodeIncludeDir(major: number): string;
