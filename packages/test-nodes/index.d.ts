export declare const majors: readonly number[];
export declare function nodeBinary(major: number): string;
export declare function nodeIncludeDir(major: number): string;
