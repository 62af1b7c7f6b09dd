// The SalesNavExport stack of the sample app (bin/app.ts); `#lib/stack` resolves here (package.json "imports").
export * from './sales-navigator-export.ts';
