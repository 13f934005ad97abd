//! `smartborder ncts check` on files: accepted ones summarised, refused ones named by file, line,
//! column and XPath, exit status 2 when any is refused.

use std::process::Command;

const DECLARATION: &str = r#"<ncts:CC015C xmlns:ncts="http://ncts.dgtaxud.ec">
  <messageSender>KZTRADER01</messageSender>
  <messageRecipient>NTA.KZ</messageRecipient>
  <preparationDateAndTime>2026-11-28T10:00:00</preparationDateAndTime>
  <messageIdentification>M1</messageIdentification>
  <messageType>CC015C</messageType>
  <TransitOperation>
    <LRN>KZ-1</LRN>
    <declarationType>T1</declarationType>
    <additionalDeclarationType>A</additionalDeclarationType>
    <security>0</security>
    <reducedDatasetIndicator>0</reducedDatasetIndicator>
    <bindingItinerary>0</bindingItinerary>
  </TransitOperation>
  <CustomsOfficeOfDeparture><referenceNumber>KZ000101</referenceNumber></CustomsOfficeOfDeparture>
  <CustomsOfficeOfDestinationDeclared><referenceNumber>GE000301</referenceNumber></CustomsOfficeOfDestinationDeclared>
  <HolderOfTheTransitProcedure><identificationNumber>KZ1</identificationNumber></HolderOfTheTransitProcedure>
  <Guarantee><sequenceNumber>1</sequenceNumber><guaranteeType>1</guaranteeType></Guarantee>
  <Consignment><countryOfDestination>GE</countryOfDestination><containerIndicator>0</containerIndicator>
    <grossMass>100</grossMass>
    <referenceNumberUCR>KZUCR1</referenceNumberUCR>
    <PlaceOfLoading><UNLocode>KZALA</UNLocode></PlaceOfLoading>
    <HouseConsignment>
      <sequenceNumber>1</sequenceNumber>
      <grossMass>100</grossMass>
      <ConsignmentItem>
        <goodsItemNumber>1</goodsItemNumber>
        <declarationGoodsItemNumber>1</declarationGoodsItemNumber>
        <Commodity><descriptionOfGoods>Wool</descriptionOfGoods></Commodity>
        <Packaging><sequenceNumber>1</sequenceNumber><typeOfPackages>PK</typeOfPackages><numberOfPackages>4</numberOfPackages><shippingMarks>KZ-1</shippingMarks></Packaging>
      </ConsignmentItem>
    </HouseConsignment>
  </Consignment>
</ncts:CC015C>"#;

#[test]
fn check_names_every_refused_element_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.xml");
    let bad = dir.path().join("bad.xml");
    let rule = dir.path().join("rule.xml");
    std::fs::write(&good, DECLARATION).unwrap();
    std::fs::write(
        &bad,
        DECLARATION.replace(
            "<grossMass>100</grossMass>\n    <referenceNumberUCR>",
            "<grossMass>-1</grossMass>\n    <referenceNumberUCR>",
        ),
    )
    .unwrap();
    std::fs::write(&rule, DECLARATION.replace("NTA.KZ", "NTA.GE")).unwrap();
    let run = |files: &[&std::path::Path]| {
        Command::new(env!("CARGO_BIN_EXE_smartborder"))
            .arg("ncts")
            .arg("check")
            .args(files)
            .output()
            .unwrap()
    };
    let out = run(&[&good]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("CC015C accepted (LRN KZ-1, route KZ000101 > GE000301)"),
        "{stdout}"
    );

    let out = run(&[&good, &bad, &rule]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "{}:20:5: /CC015C/Consignment/grossMass [XML 51]",
            bad.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{}: /CC015C/CustomsOfficeOfDeparture/referenceNumber [SBR002 14]",
            rule.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("3 file(s): 1 accepted, 2 refused"),
        "{stdout}"
    );
}
