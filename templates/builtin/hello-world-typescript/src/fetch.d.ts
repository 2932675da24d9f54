// The fetch event the component's JavaScript engine (StarlingMonkey) dispatches per request.
declare function addEventListener(type: "fetch", listener: (event: FetchEvent) => void): void;
